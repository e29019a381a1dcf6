#!/usr/bin/env bash
# The measurements issues 5, 7 and 10 still need from a GPU, as one prepared script: a lent GPU
# comes with minutes, not hours, so nothing here is decided on the machine. Each check runs
# under its own time limit and writes OUT/<check>.log; OUT/summary.txt gets one line per check
# (exit status, seconds) and OUT/env.txt the device and versions.
#
#   bash tools/misc/gpu_checks.sh [--tiny] [CHECK ...]
#
# CHECKs, in priority order (default: all): tests train crf infer models pipeline camvid
# compile. --tiny runs them at toy sizes, on the CPU when there is no GPU, to test this script.
# OUT defaults to work_dirs/gpu_checks; the camvid check reads $CAMVID (default data/camvid,
# where the device pack's --camvid links it).
set -u
OUT=${OUT:-work_dirs/gpu_checks}
PY=${PYTHON:-python3}
TINY=0
if [ "${1:-}" = "--tiny" ]; then TINY=1; shift; fi
CHECKS=${*:-tests train crf infer models pipeline camvid compile}
CAMVID=${CAMVID:-data/camvid}
for check in $CHECKS; do  # a typo must not surface minutes into a lease
  case " tests train crf infer models pipeline camvid compile " in
  *" $check "*) ;;
  *) echo "unknown check: $check (tests train crf infer models pipeline camvid compile)" >&2
    exit 2 ;;
  esac
done
DEV=$("$PY" -c "import torch; print('cuda' if torch.cuda.is_available() else 'cpu')")
mkdir -p "$OUT"

if [ $TINY = 1 ]; then
  CROP="64 128"; BATCH=2; STEPS="--steps 1 --warmup 1"; CRF="64x128"; FRAME="128 256"
  ITERS=4; CAMVID_ITERS=4; LOG=1; CAMVID_CROP="64 96"; WORKERS=1
  TOY="--num-train 4 --num-val 1 --height 128 --width 256"
  # the MiniCity and CamVid training pipelines at toy sizes (list items by index)
  P=train_dataloader.dataset.pipeline
  SMALL=("$P.2.scale=(256,128)" "$P.3.crop_size=(64,128)" "model.data_preprocessor.size=(64,128)")
  SMALL_CAMVID=("$P.2.scale=(96,64)" "$P.3.crop_size=(64,96)" "$P.6.size=(64,96)"
    "model.data_preprocessor.size=(64,96)")
  VIEWS=(--tta-ratios 1.0)  # 2 views (flip) instead of 16
else
  CROP="512 1024"; BATCH=8; STEPS="--steps 20 --warmup 5"; CRF="512x1024 1024x2048"
  FRAME="1024 2048"; ITERS=200; CAMVID_ITERS=300; LOG=20; CAMVID_CROP="360 480"; WORKERS=14
  TOY="--num-train 32 --num-val 2 --height 1024 --width 2048"
  SMALL=(); SMALL_CAMVID=(); VIEWS=()
fi

# step NAME SECONDS COMMAND...: run it under a limit, keep its log, record the outcome.
step() {
  local name=$1 limit=$2
  shift 2
  local start=$SECONDS
  timeout "$limit" "$@" >"$OUT/$name.log" 2>&1
  echo "$name rc=$? $((SECONDS - start))s" | tee -a "$OUT/summary.txt"
}

# busy NAME: share of each logged iteration not spent waiting for data, from a train log.
busy() {
  "$PY" - "$OUT/$1" <<'EOF'
import glob, json, sys
rows = [json.loads(l) for f in glob.glob(sys.argv[1] + "/*/vis_data/scalars.json") for l in open(f)]
rows = [r for r in rows if "data_time" in r][1:]  # the first interval holds start-up
for r in rows:
    print(f"iter {r['iter']}: {r['time']:.4f} s/iter, data {r['data_time']:.4f} s, "
          f"busy {1 - r['data_time'] / r['time']:.1%}")
EOF
}

{
  date -u
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 | head -3
  "$PY" -c "import torch, torchvision, mmengine; print('torch', torch.__version__, 'cuda',
torch.version.cuda, 'torchvision', torchvision.__version__, 'mmengine', mmengine.__version__)"
  nproc
} >"$OUT/env.txt" 2>&1

for check in $CHECKS; do
  case $check in
  tests) # the CUDA-only tests: no host sync in the training step, the CRF, device transforms
    step tests 240 "$PY" -m pytest -q -rs tests/test_engine/test_no_sync.py \
      tests/test_postprocess/test_mean_field.py tests/test_models/test_device_transforms.py ;;
  train) # issue 10: vipseg against the seed-style loop, same run, identical inputs
    step train_r101 150 "$PY" tools/analysis_tools/benchmark_train.py \
      configs/deeplabv3_r101_minicity.py --batch $BATCH --crop $CROP $STEPS
    step train_r50 120 "$PY" tools/analysis_tools/benchmark_train.py \
      configs/deeplabv3_r50_minicity.py --batch $BATCH --crop $CROP $STEPS ;;
  crf) # issue 7: the torch mean field on the device, 19 classes, 5 iterations
    step crf 120 "$PY" tools/analysis_tools/benchmark_crf.py --backends torch --device $DEV \
      --sizes $CRF --repeat 5 --warmup 2 ;;
  infer) # issue 10: whole, slide and TTA at Cityscapes frames, bf16 + channels-last
    step infer 150 "$PY" tools/analysis_tools/benchmark_infer.py \
      configs/deeplabv3_r50_minicity.py --size $FRAME --amp --channels-last --steps 5 \
      --warmup 2 "${VIEWS[@]}" ;;
  models) # issue 5: training images/s of every model family on CamVid crops
    for cfg in configs/deeplabv3_r50_camvid.py configs/deeplabv3plus/deeplabv3plus_r50_camvid.py \
      configs/acfnet/acfnet_r50_camvid.py configs/unet/unet_camvid.py \
      configs/unet/attention_unet_camvid.py; do
      step "model_$(basename "$cfg" .py)" 90 "$PY" tools/analysis_tools/benchmark_train.py \
        "$cfg" --batch $BATCH --crop $CAMVID_CROP $STEPS --reference none
    done ;;
  pipeline) # issue 10: R101 through tools/train.py, real data pipeline; is the GPU kept busy?
    step toycity 120 "$PY" tools/misc/make_toycity.py --out "$OUT/toycity" --overwrite $TOY
    step pipeline_r101 240 "$PY" tools/train.py configs/deeplabv3_r101_minicity.py \
      --data-root "$OUT/toycity" --work-dir "$OUT/pipeline_r101" --cfg-options \
      train_dataloader.batch_size=$BATCH train_dataloader.num_workers=$WORKERS \
      train_cfg.max_iters=$ITERS train_cfg.val_interval=$ITERS \
      default_hooks.checkpoint.interval=$ITERS default_hooks.logger.interval=$LOG "${SMALL[@]}"
    busy pipeline_r101 >"$OUT/pipeline_r101_busy.txt" 2>&1 ;;
  camvid) # issue 10: CamVid crops must never leave the GPU waiting for data
    step pipeline_camvid 240 "$PY" tools/train.py configs/deeplabv3_r50_camvid.py \
      --data-root "$CAMVID" --work-dir "$OUT/pipeline_camvid" --cfg-options \
      train_dataloader.batch_size=$BATCH train_dataloader.num_workers=$WORKERS \
      train_cfg.max_iters=$CAMVID_ITERS train_cfg.val_interval=$CAMVID_ITERS \
      default_hooks.checkpoint.interval=$CAMVID_ITERS default_hooks.logger.interval=$LOG \
      "${SMALL_CAMVID[@]}"
    busy pipeline_camvid >"$OUT/pipeline_camvid_busy.txt" 2>&1 ;;
  compile) # issue 10: torch.compile of the training step (compile time is in the log)
    step train_r50_compile 240 "$PY" tools/analysis_tools/benchmark_train.py \
      configs/deeplabv3_r50_minicity.py --batch $BATCH --crop $CROP $STEPS --compile \
      --reference none ;;
  esac
done
