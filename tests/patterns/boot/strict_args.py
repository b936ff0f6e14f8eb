# Strict argument parsing: parse_args() refuses the parameters the platform adds (--num_gpus), online as here.
import argparse

parser = argparse.ArgumentParser()
parser.add_argument('--data_url')
parser.add_argument('--train_url')
args = parser.parse_args()
print('never reached', args)
