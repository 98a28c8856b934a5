#!/bin/sh
# Rebuilds the bundled hooklab-demo model from nothing: data (seed 0), training (seed 2),
# evaluation. Writes ../hooklab-demo/{config.json,model.safetensors,eval/*}, data/ and
# train_log.json. About 15 minutes on one unloaded core; see README.md for what each option does.
set -e
cd "$(dirname "$0")"
/usr/bin/python3 generate_data.py --seed 0 --tokens 4000000 --grammar-share 0.5 --extra-names --c-ioi-share 0.65 \
    --to-place-leads --more-frames --random-vp-share 0.3
LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread /usr/bin/python3 train.py --seed 2 --ema 0.995
/usr/bin/python3 evaluate.py
