# MoXing's training framework (mox.run with ModelSpec): ModelArts has it, a local run does not.
import argparse

import moxing.tensorflow as mox

parser = argparse.ArgumentParser()
parser.add_argument('--train_url')
args, _ = parser.parse_known_args()


def model_fn(inputs, run_mode, **kwargs):
    return mox.ModelSpec(loss=None)


mox.run(input_fn=None, model_fn=model_fn, optimizer_fn=mox.get_optimizer_fn('sgd', learning_rate=0.1),
        run_mode=mox.ModeKeys.TRAIN, log_dir=args.train_url, max_number_of_steps=1)
