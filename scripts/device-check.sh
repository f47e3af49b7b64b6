#!/usr/bin/env bash
# The GPU checklist in one script, for a session that is lent a device (which has no .NET SDK and
# takes at most 64 MiB of ignored files):
#
#   scripts/device-check.sh prepare            # here: self-contained scone + test app, packed
#   # then, through the device tool, with carry ["artifacts/device"]:
#   bash scripts/device-check.sh run           # there: writes everything under $OUT
#
# run records the GPU, driver and CUDA libraries, runs the whole test suite (the GPU tests run for
# real there), `scone bench --device cuda` in strict float32, with TF32 and without graphs, the
# PyTorch reference (bench/reference/scone_torch.py) where the device has PyTorch, then the paper's
# protocols (spec §2-§3, 10,000 steps each), most wanted first, for as long as
# SCONE_DEVICE_BUDGET_S (default 420 s) allows: SCONE on kodim19, on the cat video (145 frames,
# here at 256 x 256 to fit the 64 MiB carry) and on the bunny (512^3 evaluation grid); then
# SIREN on kodim19, SCONE on kodim09 and the other shapes. The report is $OUT/report.md.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
device="$root/artifacts/device"

prepare() {
  rm -rf "$device" && mkdir -p "$device/app"
  dotnet publish "$root/Scone.Cli" -c Release -r linux-x64 --self-contained true -o "$device/app" >&2 || exit 1
  dotnet publish "$root/Scone.Tests" -c Release -r linux-x64 --self-contained true -o "$device/app" >&2 || exit 1
  mkdir -p "$device/app/data/shapes"
  cp "$root/../shared/data/kodak/kodim19.png" "$root/../shared/data/kodak/kodim09.png" "$device/app/data/"
  # kodim19 as uint8 .npy too: the PyTorch reference reads it without PIL or numpy.
  mkdir -p "$device/kodim19" && cp "$root/../shared/data/kodak/kodim19.png" "$device/kodim19/"
  "$device/app/scone" convert-video "$device/kodim19" "$device/app/data/kodim19.npy" >&2 && rm -rf "$device/kodim19" || exit 1
  cp "$root"/../shared/data/shapes/{bunny/bunny.xyz,armadillo/armadillo.obj,dragon/dragon_vrip_res3.ply,lucy/lucy.obj} "$device/app/data/shapes/"
  "$device/app/scone" convert-video "$root/../shared/data/video/cat" "$device/app/data/cat-256.npy" --scale 0.5 >&2 || exit 1
  tar -C "$device" -cJf "$device/app.tar.xz" app && rm -rf "$device/app"
  du -sh "$device" >&2
}

run() {
  : "${OUT:?run writes under \$OUT}"
  local budget=${SCONE_DEVICE_BUDGET_S:-420} start=$SECONDS work=/tmp/scone-device
  mkdir -p "$work" && tar -C "$work" -xJf "$device/app.tar.xz"
  local app="$work/app" report="$OUT/report.md"
  {
    echo "# Device check $(date -u +%Y-%m-%dT%H:%MZ)"
    echo '```'
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1
    nvidia-smi 2>&1 | head -n 4
    ls /usr/local/cuda*/lib64/libnvrtc.so.* /usr/local/cuda*/lib64/libcublas.so.* 2>/dev/null
    echo '```'
  } > "$report"

  echo "## Tests" >> "$report"
  (cd "$app" && ./Scone.Tests) > "$OUT/tests.log" 2>&1
  echo "exit $?; $(grep -E '^\s*(total|failed|succeeded|skipped):' "$OUT/tests.log" | tr -s ' \n' ' ')" >> "$report"

  echo "## Bench" >> "$report"
  for variant in "" "--tf32" "--no-graph"; do
    "$app/scone" bench --device cuda --steps 20 --warmup 5 $variant --out "$OUT/bench-cuda${variant}.json" > /dev/null 2> "$OUT/bench${variant}.log"
    echo "bench ${variant:-strict, graphs}: exit $?" >> "$report"
  done
  for tf32 in "" "--tf32"; do
    "$app/scone" bench --device cuda --image "$device/kodak/kodim19.png" --only scone-5x250 --steps 20 --warmup 5 --psnr-steps 2000 $tf32 \
      --out "$OUT/bench-paper${tf32:+-tf32}.json" > /dev/null 2>> "$OUT/bench-paper.log"
    echo "paper configuration (768x512, SCONE 5x250, PSNR after 2000 steps) ${tf32:-strict}: exit $?" >> "$report"
  done

  echo "## PyTorch on the same GPU (bench/reference/scone_torch.py, kodim19, 2000 steps)" >> "$report"
  if python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2> "$OUT/torch-probe.log"; then
    python3 "$root/bench/reference/scone_torch.py" --image "$app/data/kodim19.npy" --steps 2000 > "$OUT/torch.json" 2> "$OUT/torch.log"
    echo "scone_torch.py: exit $?; $(python3 -c 'import torch; print(torch.__version__, torch.version.cuda)')" >> "$report"
  else
    echo "no PyTorch with CUDA here: $(tail -n 1 "$OUT/torch-probe.log")" >> "$report"
  fi

  echo "## Paper protocols (spec §2-§3, 10,000 steps, the task's defaults)" >> "$report"
  local data="$app/data"
  local jobs=(
    "scone-kodim19|fit image $data/kodim19.png"
    "scone-cat|fit video $data/cat-256.npy --eval-every 2500"
    "scone-bunny|fit sdf $data/shapes/bunny.xyz"
    "siren-kodim19|fit image $data/kodim19.png --model siren"
    "scone-kodim09|fit image $data/kodim09.png"
    "siren-cat|fit video $data/cat-256.npy --model siren"
    "scone-armadillo|fit sdf $data/shapes/armadillo.obj"
    "scone-dragon|fit sdf $data/shapes/dragon_vrip_res3.ply"
    "scone-lucy|fit sdf $data/shapes/lucy.obj"
  )
  export SCONE_CACHE_DIR="$work/cache"
  for job in "${jobs[@]}"; do
    local name=${job%%|*} args=${job#*|}
    if (( SECONDS - start > budget )); then echo "stopped before $name: budget of $budget s spent" >> "$report"; break; fi
    "$app/scone" $args --device cuda --out "$OUT/$name" > "$OUT/$name.log" 2>&1
    echo "$name: exit $?; $(tr -d '\n ' < "$OUT/$name/metrics.json" 2>/dev/null | sed 's/"psnr_per_frame".*"evaluations"/"evaluations"/' | head -c 900)" >> "$report"
    rm -f "$OUT/$name/model.safetensors" "$OUT/$name/mesh.ply"
  done
  echo "total ${SECONDS}s" >> "$report"
}

case "${1:-}" in
  prepare) prepare ;;
  run) run ;;
  *) sed -n '2,/^set /p' "${BASH_SOURCE[0]}" | grep '^#' | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
