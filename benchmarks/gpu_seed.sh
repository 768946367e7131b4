#!/usr/bin/env bash
# The GPU measurements of docs/benchmarks.md, in one go, on a machine with one CUDA GPU.
#   bash benchmarks/gpu_seed.sh [OUT_DIR]
# Generates the seed_four_class data set (40,000 / 10,000), measures training throughput (raw loop vs
# Lightning with and without the cache), then trains seed_four_class_fast and records its curve.
set -euo pipefail
OUT=${1:-${OUT:-gpu-results}}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
python3 -c "import torch, lightning; print('torch', torch.__version__, 'lightning', lightning.__version__)" | tee -a "$OUT/gpu.txt"
start=$(date +%s)
python3 -m plotlstm.generate synth=seed_four_class progress=false
echo "generate seed_four_class (50,000 plots, $(nproc) cores): $(( $(date +%s) - start )) s" | tee -a "$OUT/gpu.txt"
python3 benchmarks/train_throughput.py --root data/seed_four_class --batch-size 50 --steps 200 --workers 12 2>&1 \
  | grep -E "^(device|\(a\)|\(b\)|\(c\)|    at )" | tee -a "$OUT/gpu.txt"
python3 benchmarks/train_throughput.py --root data/seed_four_class --batch-size 256 --precision bf16-mixed --steps 100 \
  --workers 12 2>&1 | grep -E "^(device|\(a\)|\(b\)|\(c\)|    at )" | tee -a "$OUT/gpu.txt"
for run in "fast" ${EXTRA_RUNS:-}; do
  case $run in
    fast) args=(experiment=seed_four_class_fast) ;;
    fast512) args=(experiment=seed_four_class_fast data.batch_size=512 model.lr=2.0e-3) ;;
    seed) args=(experiment=seed_four_class) ;;
  esac
  start=$(date +%s)
  python3 -m plotlstm.train "${args[@]}" hydra.run.dir="runs/$run" 2>&1 \
    | grep -E "test accuracy|Epoch|stopped|error" | tail -5
  echo "$run: $(( $(date +%s) - start )) s for the whole command" | tee -a "$OUT/gpu.txt"
  cp "runs/$run/epoch-log.csv" "$OUT/$run-epoch-log.csv"
  cp "runs/$run/metrics.json" "$OUT/$run-metrics.json"
done
