"""The core: the job model (``job``, ``rules``, ``location``, ``codetree``, ``hyperparameters``), the runtime contract,
the session, the hooks, what a backend is, and the runner that starts jobs. Nothing here imports a backend,
the environments, the SDK facade or the pytest plugin."""
