#!/usr/bin/env bash
# One GPU session's work for issue 23 (15 minutes of device time in all): the bundled model's recipe
# (`make bundled-model`: draw general_designs, train experiment=general_designs, calibrate, export) timed on one
# GPU machine, against the issue's goal of 10 minutes with drawing included; beside it on the same GPU and data,
# the recipe again with another seed (how far two runs of one recipe differ: the noise under any comparison of
# candidates) and the recipe trained longer (EPOCHS_LONG one-cycle epochs). Results go to $OUT (default ./gpu-out):
# timeline.txt, device.txt, the three exported models and one archive of their logs.
set -u
OUT=${OUT:-gpu-out}
EPOCHS_LONG=${EPOCHS_LONG:-20}
BUDGET=${BUDGET:-540} # seconds this script may run; each stage is cut short to fit
SYNTH_ARGS=${SYNTH_ARGS:-} # e.g. "synth.train_per_class=50 synth.test_per_class=10" for a trial run
TRAIN_ARGS=${TRAIN_ARGS:-} # e.g. "trainer.max_epochs=1" for a trial run
mkdir -p "$OUT"
export PLOTLSTM_DATA=${PLOTLSTM_DATA:-/tmp/plotlstm-data} PYTHONUNBUFFERED=1 HYDRA_FULL_ERROR=1
LOGS=${LOGS:-/tmp/plotlstm-logs}
DATA=$PLOTLSTM_DATA/general_designs
start=$(date +%s)
stamp() { echo "[$(($(date +%s) - start)) s] $*" | tee -a "$OUT/timeline.txt"; }
left() { echo $((BUDGET - ($(date +%s) - start))); }
nvidia-smi -L | tee "$OUT/device.txt"
python3 -c "import torch, lightning; print('torch', torch.__version__, 'lightning', lightning.__version__)" \
  | tee -a "$OUT/device.txt"
nproc | tee -a "$OUT/device.txt"

stamp "draw general_designs"
timeout 300 python3 -m plotlstm.generate synth=general_designs workers=16 progress=false $SYNTH_ARGS \
  >"$LOGS.generate.log" 2>&1 || stamp "generate failed or cut"
stamp "drawn: $(find "$DATA" -name '*.png' | wc -l) images"

export_model() { # run-name seed
  python3 benchmarks/make_bundled_model.py --ckpt "$LOGS/$1" --data "$DATA/train" --val-fraction 0.05 \
    --seed "$2" --out "$OUT/$1.pt" >"$LOGS/$1/export.log" 2>&1
  stamp "$1 exported, status $?"
}
train() { # run-name seed seconds overrides...
  local name=$1 seed=$2 limit=$3
  shift 3
  local fit=$((limit - 45)) # Lightning stops fitting then, and still tests and saves
  mkdir -p "$LOGS/$name"
  timeout "$limit" python3 -m plotlstm.train experiment=general_designs hydra.run.dir="$LOGS/$name" seed="$seed" \
    $SYNTH_ARGS $TRAIN_ARGS +trainer.max_time="$(printf "00:00:%02d:%02d" $((fit / 60)) $((fit % 60)))" "$@" \
    >"$LOGS/$name/train.log" 2>&1
  stamp "$name trained, status $?"
  export_model "$name" "$seed"
}
stamp "train recipe, its replicate (seed 43) and long ($EPOCHS_LONG epochs) side by side"
train recipe 42 $(($(left) - 40)) &
recipe=$!
sleep 20 # the recipe run builds the decoded cache; the others wait on its lock, then share it
train seed43 43 $(($(left) - 40)) &
seed43=$!
train long 42 $(($(left) - 40)) trainer.max_epochs="$EPOCHS_LONG" &
long=$!
wait $recipe $seed43 $long
stamp "done"
tar czf "$OUT/logs.tar.gz" --exclude=checkpoints -C "$(dirname "$LOGS")" "$(basename "$LOGS")" \
  "$(basename "$LOGS").generate.log" 2>/dev/null
tail -n 4 "$LOGS"/*/train.log "$LOGS"/*/export.log
