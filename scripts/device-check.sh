#!/usr/bin/env bash
# The GPU checklist in one script, for a session that is lent a device (which has no .NET SDK and
# takes at most 64 MiB of ignored files):
#
#   scripts/device-check.sh prepare            # here: self-contained scone + test app, packed
#   # then, through the device tool, with carry ["artifacts/device"]:
#   bash scripts/device-check.sh run           # there: writes everything under $OUT
#
# run records the GPU, driver and CUDA libraries, runs the whole test suite (the GPU tests run for
# real there), `scone bench --device cuda` in strict float32 and with TF32, then the paper's image
# protocol (spec §2-§3: full batch, 10,000 steps) on kodim19 and kodim09 with SCONE and SIREN,
# for as long as SCONE_DEVICE_BUDGET_S (default 420 s) allows. The report is $OUT/report.md.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
device="$root/artifacts/device"

prepare() {
  rm -rf "$device" && mkdir -p "$device/app"
  dotnet publish "$root/Scone.Cli" -c Release -r linux-x64 --self-contained true -o "$device/app" >&2 || exit 1
  dotnet publish "$root/Scone.Tests" -c Release -r linux-x64 --self-contained true -o "$device/app" >&2 || exit 1
  mkdir -p "$device/kodak"
  cp "$root/../shared/data/kodak/kodim19.png" "$root/../shared/data/kodak/kodim09.png" "$device/kodak/"
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
  for tf32 in "" "--tf32"; do
    "$app/scone" bench --device cuda --steps 20 --warmup 5 $tf32 --out "$OUT/bench-cuda${tf32:+-tf32}.json" > /dev/null 2> "$OUT/bench${tf32:+-tf32}.log"
    echo "bench ${tf32:-strict}: exit $?" >> "$report"
  done
  for tf32 in "" "--tf32"; do
    "$app/scone" bench --device cuda --image "$device/kodak/kodim19.png" --only scone-5x250 --steps 20 --warmup 5 --psnr-steps 2000 $tf32 \
      --out "$OUT/bench-paper${tf32:+-tf32}.json" > /dev/null 2>> "$OUT/bench-paper.log"
    echo "paper configuration (768x512, SCONE 5x250, PSNR after 2000 steps) ${tf32:-strict}: exit $?" >> "$report"
  done

  echo "## Paper protocol (10,000 steps, full batch, lr 1e-4)" >> "$report"
  for model in scone siren; do
    for image in kodim19 kodim09; do
      if (( SECONDS - start > budget )); then echo "stopped: budget of $budget s spent" >> "$report"; break 2; fi
      "$app/scone" fit image "$device/kodak/$image.png" --model "$model" --device cuda --steps 10000 --out "$OUT/$model-$image" > "$OUT/$model-$image.log" 2>&1
      echo "$model $image: exit $?; $(tr -d '\n ' < "$OUT/$model-$image/metrics.json" 2>/dev/null | head -c 400)" >> "$report"
      rm -f "$OUT/$model-$image/model.safetensors"
    done
  done
  echo "total ${SECONDS}s" >> "$report"
}

case "${1:-}" in
  prepare) prepare ;;
  run) run ;;
  *) sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
