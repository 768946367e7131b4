#!/usr/bin/env bash
# One GPU session's work for issues 12 and 13 (15 minutes of device time in all): draw and train the LSTM
# bundled model of that session (experiment=general_gpu; today's bundled model is experiment=general), export it with its calibrated unrecognized threshold, and, while it trains,
# draw and train the six-class experiment at half the preset's size (5,000 / 1,000 per class). Results go to
# $OUT (default ./gpu-out): logs, metrics.json and epoch logs of both runs, and general.pt.
set -u
OUT=${OUT:-gpu-out}
mkdir -p "$OUT"
export PLOTLSTM_DATA=${PLOTLSTM_DATA:-/tmp/plotlstm-data} PYTHONUNBUFFERED=1 HYDRA_FULL_ERROR=1
LOGS=${LOGS:-/tmp/plotlstm-logs}
start=$(date +%s)
stamp() { echo "[$(( $(date +%s) - start )) s] $*" | tee -a "$OUT/timeline.txt"; }
nvidia-smi -L | tee "$OUT/device.txt"
python3 -c "import torch, lightning; print('torch', torch.__version__, 'lightning', lightning.__version__)" | tee -a "$OUT/device.txt"

stamp "draw general"
python3 -m plotlstm.generate synth=general synth.train_per_class=5000 synth.test_per_class=500 workers=16 \
  progress=false > "$OUT/generate_general.log" 2>&1 || stamp "generate general failed"
stamp "train general (background); draw six_class"
timeout 270 python3 -m plotlstm.train experiment=general_gpu +trainer.max_time=00:00:03:40 \
  hydra.run.dir="$LOGS/general" > "$OUT/train_general.log" 2>&1 &
general=$!
python3 -m plotlstm.generate synth=six_class synth.train_per_class=5000 synth.test_per_class=1000 workers=14 \
  progress=false > "$OUT/generate_six.log" 2>&1 || stamp "generate six_class failed"
stamp "train six_class (background)"
timeout 200 python3 -m plotlstm.train experiment=six_class synth.train_per_class=5000 synth.test_per_class=1000 \
  +trainer.max_time=00:00:02:50 hydra.run.dir="$LOGS/six_class" > "$OUT/train_six.log" 2>&1 &
six=$!
wait $general; stamp "general trained, status $?"
cp "$LOGS/general/metrics.json" "$OUT/general_metrics.json" 2>/dev/null
cp "$LOGS/general/epoch-log.csv" "$OUT/general_epoch-log.csv" 2>/dev/null
python3 benchmarks/make_bundled_model.py --ckpt "$LOGS/general" --data "$PLOTLSTM_DATA/general/test" \
  --out "$OUT/general.pt" > "$OUT/export.log" 2>&1
stamp "exported, status $?"
wait $six; stamp "six_class trained, status $?"
cp "$LOGS/six_class/metrics.json" "$OUT/six_metrics.json" 2>/dev/null
cp "$LOGS/six_class/epoch-log.csv" "$OUT/six_epoch-log.csv" 2>/dev/null
tail -n 3 "$OUT"/*.log
