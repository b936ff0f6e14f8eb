"""What ``moxing`` and ``moxing.tensorflow``/``pytorch``/``mxnet`` offer beyond ``file``: run parameters
(``get_flag``/``set_flag``, ``get_hyper_parameter``/``set_hyper_parameter``), ``ModeKeys``, and, for MoXing's training
framework (``mox.run``, ``ModelSpec``, ``get_optimizer_fn`` ...), stand-ins that raise a clear error when used.

A local run has no MoXing training framework: a stand-in can be imported and named (``run_mode=mox.ModeKeys.TRAIN``,
``from moxing.tensorflow import run``), and raises :class:`MoxUnsupportedError` naming the API when called or
when one of its attributes is read. Sources: the MoXing TensorFlow API doc (``ModeKeys``, ``get_flag``, ``set_flag``)
of Huawei's ModelArts-Lab repository; see docs/moxing.md.
"""

from __future__ import absolute_import

import sys

from ._local import MoxUnsupportedError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional

#: MoXing's training-framework APIs that ModelArts boot files use; each is a stand-in here
FRAMEWORK_APIS = (
    "run", "ModelSpec", "ExportSpec", "ExportKeys", "NetworkKeys", "PreprocessingKeys", "get_optimizer_fn", "get_model_fn",
    "get_model_meta", "get_data_augmentation_fn", "get_collection", "var_scope", "get_tfrecord", "get_dataset",
    "get_dataset_meta", "ImageClassificationRawMetadata", "ImageClassificationRawDataset",
    "ImageClassificationTFRecordMetadata", "ImageClassificationTFRecordDataset", "MultilabelClassificationRawMetadata",
    "MultilabelClassificationRawDataset", "AggregativeSessionRunHook", "EarlyStoppingHook", "dist", "get_data_iter",
    "load_model", "save_model", "get_model", "contrib_metrics", "rcnn_config", "get_image_list",
)
#: what the local moxing does provide, for the messages
PROVIDED = ("mox.file", "mox.ModeKeys", "mox.get_flag", "mox.set_flag", "mox.get_hyper_parameter", "mox.set_hyper_parameter")
SUBMODULES = ("framework", "tensorflow", "pytorch", "mxnet")


class ModeKeys(object):
    """MoXing's run modes, as its TensorFlow API doc lists them (``print(mox.ModeKeys.TRAIN)`` prints ``TRAIN``)."""

    TRAIN = "TRAIN"
    EVAL = "EVAL"
    PREDICT = "PREDICT"
    EXPORT = "EXPORT"


def unavailable_error(module, name):
    # type: (str, str) -> MoxUnsupportedError
    return MoxUnsupportedError(
        "mox.%s (%s) is MoXing's training framework, which a local run does not have: the local moxing of pytest_modelarts "
        "provides %s. Run this part online (ModelArts images have MoXing), or keep it out of the local run (e.g. behind a "
        "command-line parameter)" % (name, module, ", ".join(PROVIDED)))


class UnavailableApi(object):
    """A stand-in for ``module.name``: it may be imported and named; calling it or reading an attribute raises."""

    def __init__(self, module, name):
        # type: (str, str) -> None
        self._module = module
        self._name = name

    def __call__(self, *args, **kwargs):
        # type: (*Any, **Any) -> Any
        raise unavailable_error(self._module, self._name)

    def __getattr__(self, attribute):
        # type: (str) -> Any
        if attribute.startswith("__") or attribute in ("_module", "_name"):
            raise AttributeError(attribute)
        raise unavailable_error(self._module, self._name + "." + attribute)

    def __repr__(self):
        # type: () -> str
        return "<MoXing's %s.%s: not available in a local run>" % (self._module, self._name)


_flags = {}  # type: Dict[str, Any]
_hyper_parameters = {}  # type: Dict[str, Any]


def _command_line(name, argv=None):
    # type: (str, Optional[List[str]]) -> Optional[str]
    """The value of ``--name=value`` or ``--name value`` on the job's command line (the last one), else None."""
    args = sys.argv[1:] if argv is None else argv
    found = None  # type: Optional[str]
    for i, arg in enumerate(args):
        if arg.startswith("--" + name + "="):
            found = arg[len(name) + 3:]
        elif arg == "--" + name and i + 1 < len(args) and not args[i + 1].startswith("--"):
            found = args[i + 1]
    return found


def set_flag(name, value):
    # type: (str, Any) -> None
    """Set one of MoXing's run parameters; :func:`get_flag` answers it from then on."""
    _flags[name] = value


def get_flag(name=None, flag_name=None):
    # type: (Optional[str], Optional[str]) -> Any
    """A run parameter: the value given to :func:`set_flag`, else ``--name=value`` of the command line (a str).

    MoXing's own defaults of its flags are not known locally: any other name raises, saying how to give it."""
    key = name if name is not None else flag_name
    if key is None:
        raise TypeError("mox.get_flag() takes the flag's name: mox.get_flag('num_gpus')")
    if key in _flags:
        return _flags[key]
    value = _command_line(key)
    if value is not None:
        return value
    raise MoxUnsupportedError(
        "mox.get_flag(%r): the flag is neither set (mox.set_flag(%r, value)) nor on the command line (--%s=value); MoXing's "
        "built-in defaults of its flags are not known to the local moxing of pytest_modelarts" % (key, key, key))


def set_hyper_parameter(name, value):
    # type: (str, Any) -> None
    """Set a hyperparameter; :func:`get_hyper_parameter` answers it from then on."""
    _hyper_parameters[name] = value


def get_hyper_parameter(name, default=None):
    # type: (str, Any) -> Any
    """A hyperparameter: the value given to :func:`set_hyper_parameter`, else ``--name=value`` of the command line
    (a str), else ``default``."""
    if name in _hyper_parameters:
        return _hyper_parameters[name]
    value = _command_line(name)
    return default if value is None else value


def populate(namespace, module):
    # type: (Dict[str, Any], str) -> None
    """Put the run parameters, ``ModeKeys`` and a stand-in of each framework API into a module's namespace."""
    namespace.update(ModeKeys=ModeKeys, get_flag=get_flag, set_flag=set_flag, get_hyper_parameter=get_hyper_parameter,
                     set_hyper_parameter=set_hyper_parameter)
    for name in FRAMEWORK_APIS:
        namespace[name] = UnavailableApi(module, name)


def install_fallback(module_name, missing):
    # type: (str, Any) -> None
    """Route a missing attribute of the module to ``missing(name)`` (which raises or returns it), on Python 3.5 and
    later through the module's class: one way for 3.6, which has no module ``__getattr__``, and for 3.7+."""
    if sys.version_info < (3, 5):
        return  # 2.7: a missing name is Python's own AttributeError
    import types

    class _Module(types.ModuleType):
        def __getattr__(self, name):
            # type: (str) -> Any
            return missing(name)

    sys.modules[module_name].__class__ = _Module


def framework_module(namespace, module, file):
    # type: (Dict[str, Any], str, Any) -> None
    """Make ``module`` (``moxing.tensorflow``, ``.pytorch``, ``.mxnet``) what users import as ``mox``: the same
    ``file``, the run parameters and ``ModeKeys``, stand-ins of its training APIs, and a clear error for the rest."""
    from ._local import unsupported

    namespace["file"] = file
    namespace["__all__"] = ["file", "ModeKeys", "get_flag", "set_flag", "get_hyper_parameter", "set_hyper_parameter"]
    populate(namespace, module)

    def missing(name):
        # type: (str) -> Any
        raise unsupported(module, name, list(PROVIDED))

    install_fallback(module, missing)
