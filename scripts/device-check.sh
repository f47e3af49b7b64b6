#!/usr/bin/env bash
# The GPU run in one script, for the one short window a session is lent a GPU machine (which has
# no .NET SDK, takes a working tree of at most 64 MiB, runs a command for at most 10 minutes and
# returns at most 8 files of at most 16 MiB each):
#
#   scripts/device-check.sh prepare     # here: artifacts/device/{app,data}.tar.gz, and the upload's size
#   # then, through the device tool, with carry ["artifacts/device"] and timeout_s 600:
#   bash scripts/device-check.sh run    # there: $OUT/report.md, $OUT/summary.json, $OUT/logs.tar.gz
#   scripts/device-check.sh rehearse    # here (CI runs it): prepare, then the whole run in a clean
#                                       # environment on the CUDA emulator, with tiny sizes
#
# run works through the stages below in order of value, each under its own time cap, within a
# budget of SCONE_DEVICE_BUDGET_S seconds (default 540); a stage is skipped when less than its
# estimate is left. After every stage it rewrites its three files, so a run cut short returns
# everything done so far: report.md (for people), summary.json (every number, for programs) and
# logs.tar.gz (logs, JSON, metrics, curves and images; at most 15 MiB, images dropped first).
# The GPU tests run with SCONE_REQUIRE_CUDA=1: CUDA that is not found fails them.
#
# Estimates for an H100 (none of them measured yet: the report puts each stage's time beside it):
#   stage                 est.   cap   what
#   environment            15 s   60   GPU, driver, nvcc, python3s, where the CUDA libraries were sought
#   gpu-tests              40 s  150   the GPU and native tests (NVRTC compiles kernels.cu once, ~10 s)
#   kernel-resources       10 s   60   scone kernels with the device's own NVRTC: registers, spills, occupancy
#   bench-paper-strict     35 s   90   SCONE 5x250 on kodim19 (768x512): 20 timed steps, PSNR at 2,000
#   bench-paper-tf32       25 s   75   the same with TF32 GEMMs
#   torch-eager            85 s  150   PyTorch eager on the same image: fp32 2,000 steps (~37 ms), TF32 300
#   bench-variants        100 s  230   the TF32 bench again with --fast-math, SCONE_UNFUSED=1, --activations bf16, --pad-widths off
#   scone-kodim19          70 s  150   the paper's image protocol, 10,000 steps (TF32: ~6 ms a step)
#   siren-kodim19          60 s  130   SIREN likewise
#   scone-cat              60 s  130   the video protocol, 10,000 steps of 262,144 points, cat 256x256 x 72
#   scone-bunny            80 s  180   the SDF protocol, 10,000 steps, 512^3 ground truth and evaluation
#   sanitizer              60 s  120   compute-sanitizer memcheck and racecheck on the kernel tests, where it works
#   torch-compile           -   rest   torch.compile in a child process, if time is left
#   total                 640 s        (10.7 minutes: the budget skips the last stages)
# The 10,000-step fits use TF32 GEMMs to fit the window (strict float32 would add about two
# minutes); the two paper benches give the PSNR after 2,000 steps both ways, which shows what
# TF32 costs. SCONE_DEVICE_FIT_PRECISION=strict runs them in strict float32.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
device="$root/artifacts/device"
shared="$root/../shared/data"
max_file=$((15 * 1024 * 1024))      # the archive's limit: under the 16 MiB a returned file may have
max_upload=$((56 * 1024 * 1024))    # what prepare allows the upload (tree + artifacts/device): well under 64 MiB

die() { echo "device-check: $*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
# prepare (here)

# The upload: the working tree as the device tool sends it (tracked and untracked files git does
# not ignore) plus the carried artifacts/device.
upload_bytes() {
  local tree carried
  tree=$(cd "$root" && git ls-files -co --exclude-standard -z | xargs -0 -r stat -c %s 2>/dev/null | awk '{s += $1} END {print s + 0}')
  carried=$(du -sb "$device" 2>/dev/null | cut -f1)
  echo $((tree + ${carried:-0}))
}

# Self-contained scone and test app in one folder (they share the runtime), less what the device
# does not need: the code-coverage collector (its assets for every other platform too), localized
# resources, the debugger and tracing libraries.
pack_app() {
  local stage; stage=$(mktemp -d)
  for project in Scone.Cli Scone.Tests; do
    dotnet publish "$root/$project" -c Release -r linux-x64 --self-contained true -p:SatelliteResourceLanguages=en \
      -o "$stage/app" > "$stage/publish.log" 2>&1 || { cat "$stage/publish.log" >&2; die "publishing $project failed"; }
  done
  rm -rf "$stage/app/Microsoft.CodeCoverage" "$stage/app/createdump" "$stage/app/libmscordaccore.so" "$stage/app/libmscordbi.so" \
    "$stage/app/libcoreclrtraceptprovider.so"
  tar -C "$stage" -czf "$device/app.tar.gz" app || die "packing the app failed"
  rm -rf "$stage"
}

# The inputs, under the names run uses. full: kodim19 (also as the uint8 .npy the PyTorch
# reference reads without PIL), the cat clip at 256x256 (its first 72 frames: the whole clip
# would not fit the upload) and the bunny's oriented cloud. tiny (the rehearsal): the same names
# for inputs small enough for the emulator.
pack_data() {
  local kind=$1 scone=$2 stage; stage=$(mktemp -d)
  mkdir -p "$stage/data" "$stage/one"
  case "$kind" in
    full)
      cp "$shared/kodak/kodim19.png" "$stage/data/kodim19.png" || die "$shared/kodak/kodim19.png is missing"
      "$scone" convert-video "$shared/video/cat" "$stage/data/cat.npy" --scale 0.5 --max-frames 72 >&2 || die "converting the cat clip failed"
      cp "$shared/shapes/bunny/bunny.xyz" "$stage/data/bunny.xyz" || die "$shared/shapes/bunny/bunny.xyz is missing" ;;
    tiny)
      cp "$shared/video/cat_small/frame_0001.png" "$stage/data/kodim19.png" || die "$shared/video/cat_small is missing"
      "$scone" convert-video "$shared/video/cat_small" "$stage/data/cat.npy" --max-frames 4 >&2 || die "converting cat_small failed"
      cp "$shared/shapes/bunny/bunny.xyz" "$stage/data/bunny.xyz" || die "$shared/shapes/bunny/bunny.xyz is missing" ;;
  esac
  cp "$stage/data/kodim19.png" "$stage/one/"
  "$scone" convert-video "$stage/one" "$stage/data/kodim19.npy" >&2 || die "converting kodim19 to .npy failed"
  tar -C "$stage" -czf "$device/data.tar.gz" data || die "packing the data failed"
  rm -rf "$stage"
}

prepare() {
  command -v dotnet >/dev/null || die "prepare needs the .NET SDK"
  rm -rf "$device" && mkdir -p "$device"
  pack_app
  local unpacked; unpacked=$(mktemp -d)
  tar -C "$unpacked" -xzf "$device/app.tar.gz"
  pack_data full "$unpacked/app/scone"
  rm -rf "$unpacked"
  local bytes; bytes=$(upload_bytes)
  echo "$bytes" > "$device/upload-bytes"
  echo "device-check: upload $((bytes / 1024 / 1024)) MiB ($bytes bytes: working tree and artifacts/device; app.tar.gz $(($(stat -c %s "$device/app.tar.gz") / 1024 / 1024)) MiB, data.tar.gz $(($(stat -c %s "$device/data.tar.gz") / 1024 / 1024)) MiB)" >&2
  ((bytes <= max_upload)) || die "the upload is $bytes bytes, over the $max_upload allowed (the device takes 64 MiB)"
}

# ---------------------------------------------------------------------------------------------
# run (there): helpers

json_string() {
  local s; s=$(printf '%s' "$1" | tr -d '\000-\010\013\014\016-\037')
  s=${s//\\/\\\\}; s=${s//\"/\\\"}; s=${s//$'\n'/\\n}; s=${s//$'\r'/}; s=${s//$'\t'/\\t}
  printf '"%s"' "$s"
}

# A number as JSON, or null.
json_number() { [[ "$1" =~ ^-?[0-9]+(\.[0-9]+)?$ ]] && printf '%s' "$1" || printf 'null'; }

# Whether a file holds one JSON document (python3 where there is one, else its outer braces).
json_ok() {
  [ -s "$1" ] || return 1
  if [ -n "$py" ]; then "$py" -c 'import json, sys; json.load(open(sys.argv[1]))' "$1" 2>/dev/null
  else [ "$(head -c 1 "$1")" = "{" ] && [ "$(tail -c 2 "$1" | tr -d '\n ')" = "}" ]; fi
}

# Runs a command under what is left of the current stage's cap; timeout's 124 (or 137) means cut off.
capped() {
  local left=$((stage_end - SECONDS))
  ((left > 0)) || return 124
  timeout -k 10 "$left" "$@"
}

say() { printf '%s\n' "$*" >> "$stage_md"; }
note() { printf '%s\n' "$*" >> "$stage_notes"; }
# Adds a JSON file to the stage's results under a name (only if it parses).
result() {
  if json_ok "$2"; then printf '%s\t%s\n' "$1" "$2" >> "$stage_results"
  else note "$1: $(basename "$2") missing or not JSON"; fi
}
need() {
  local missing=()
  for f in "$@"; do [ -e "$f" ] || missing+=("$f"); done
  ((${#missing[@]} == 0)) && return 0
  note "missing ${missing[*]}"
  return 1
}
# A fenced excerpt of a log in the report.
excerpt() { say '```'; tail -n "${2:-12}" "$1" | cut -c1-240 >> "$stage_md"; say '```'; }

# The numbers of a JSON file in the report: its scalars and short lists, flattened, a few to a line.
digest() {
  [ -s "$1" ] || return 0
  say '```'
  if [ -n "$py" ]; then
    "$py" - "$1" 2>&1 <<'EOF' | head -n 40 >> "$stage_md"
import json, sys
def walk(value, path):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from walk(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        if len(value) <= 6 and not any(isinstance(item, (dict, list)) for item in value):
            yield path, value
        else:
            for i, item in enumerate(value[:8]):
                if isinstance(item, (dict, list)):
                    yield from walk(item, f"{path}[{i}]")
    else:
        yield path, value
line = ""
for key, value in walk(json.load(open(sys.argv[1])), ""):
    item = f"{key}={round(value, 4) if isinstance(value, float) else value}"
    if line and len(line) + len(item) > 160:
        print(line)
        line = ""
    line += ("  " if line else "") + item
print(line)
EOF
  else
    tr -d '\n' < "$1" | tr -s ' ' | head -c 1500 >> "$stage_md"; echo >> "$stage_md"
  fi
  say '```'
}

# stage NAME ESTIMATE CAP FUNCTION: runs the function in a subshell (a mistake in it ends that
# stage, not the run) under the stage's cap; it returns 0 (passed), 1 (failed), 3 (skipped, with a
# note) or 124/137 (cut off at the cap). What it says, notes and results goes through files.
stage_count=0
stage() {
  local name=$1 estimate=$2 cap=$3 function=$4 status code start left
  stage_count=$((stage_count + 1))
  local id; id=$(printf '%02d-%s' "$stage_count" "$name")
  stage_md="$work/stages/$id.md"; stage_results="$work/stages/$id.results"; stage_notes="$work/stages/$id.notes"
  : > "$stage_md"; : > "$stage_results"; : > "$stage_notes"
  left=$((deadline - SECONDS))
  start=$SECONDS
  if ((left < estimate || left < 5)); then
    status=skipped; code=null; note "not started: ${left} s of the budget left, the stage needs about ${estimate} s"
  else
    cap=$((cap * cap_scale))
    ((cap > left)) && cap=$left
    stage_end=$((SECONDS + cap))
    echo "device-check: $name (cap ${cap} s, estimate ${estimate} s)" >&2
    ("$function"); code=$?
    case $code in
      0) status=passed ;;
      3) status=skipped ;;
      124|137) status=cut; note "cut off at its cap of ${cap} s" ;;
      *) status=failed ;;
    esac
  fi
  local seconds=$((SECONDS - start)) stage_note
  stage_note=$(awk 'NR > 1 {printf "; "} {printf "%s", $0}' "$stage_notes")
  {
    printf '{"name": %s, "status": %s, "exit": %s, "seconds": %s, "cap_s": %s, "estimate_s": %s, "note": %s, "results": {' \
      "$(json_string "$name")" "$(json_string "$status")" "$code" "$seconds" "$cap" "$estimate" "$(json_string "$stage_note")"
    local first=1 key file
    while IFS=$'\t' read -r key file; do
      ((first)) || printf ', '
      first=0
      printf '%s: ' "$(json_string "$key")"
      cat "$file"
    done < "$stage_results"
    printf '}}'
  } > "$work/stages/$id.json"
  printf '| %s | %s | %s s | %s s | %s s | %s |\n' "$name" "$status" "$seconds" "$estimate" "$cap" "${stage_note//|/\\|}" > "$work/stages/$id.row"
  pack
}

# Rewrites the three returned files from what the stages left, each atomically.
pack() {
  {
    echo "# Device check, $(date -u +%Y-%m-%dT%H:%M:%SZ)${tiny:+ (rehearsal: the CUDA emulator, tiny sizes)}"
    echo
    cat "$work/headline" 2>/dev/null || echo "GPU: not yet looked at"
    echo
    echo "Budget ${budget} s, ${SECONDS} s used; upload ${upload} bytes; 10,000-step fits in ${fit_precision} float32."
    echo
    echo "| stage | status | time | estimate | cap | note |"
    echo "|---|---|---|---|---|---|"
    cat "$work"/stages/*.row 2>/dev/null
    echo
    for md in "$work"/stages/*.md; do
      [ -s "$md" ] || continue
      local name; name=$(basename "$md" .md); echo "## ${name#*-}"; cat "$md"; echo
    done
  } > "$OUT/.report.md.partial" && mv -f "$OUT/.report.md.partial" "$OUT/report.md"
  {
    printf '{"schema": "scone-device-check/1", "mode": %s, "started": %s, "budget_s": %s, "elapsed_s": %s, "upload_bytes": %s, "fit_precision": %s, "stages": [' \
      "$(json_string "$([ -n "$tiny" ] && echo rehearsal || echo gpu)")" "$(json_string "$started")" "$budget" "$SECONDS" "$(json_number "$upload")" "$(json_string "$fit_precision")"
    local first=1
    for j in "$work"/stages/*.json; do
      [ -e "$j" ] || continue
      ((first)) || printf ', '
      first=0
      cat "$j"
    done
    printf ']}\n'
  } > "$OUT/.summary.json.partial" && mv -f "$OUT/.summary.json.partial" "$OUT/summary.json"
  local archive="$OUT/.logs.tar.gz.partial"
  tar -C "$work" -czf "$archive" logs
  if (($(stat -c %s "$archive") > max_file)); then
    tar -C "$work" --exclude='*.png' -czf "$archive" logs
    echo "The archive left out the images to stay under $((max_file / 1024 / 1024)) MiB." >> "$OUT/report.md"
  fi
  if (($(stat -c %s "$archive") > max_file)); then
    tar -C "$work" --exclude='*.png' --exclude='*.jsonl' --exclude='*.csv' -czf "$archive" logs
    echo "The archive left out the images, step streams and curves to stay under $((max_file / 1024 / 1024)) MiB." >> "$OUT/report.md"
  fi
  mv -f "$archive" "$OUT/logs.tar.gz"
}

# The test app's summary counts as JSON.
test_counts() {
  local log=$1 out=$2 key first=1
  {
    printf '{'
    for key in total succeeded failed skipped; do
      ((first)) || printf ', '
      first=0
      printf '"%s": %s' "$key" "$(json_number "$(grep -E "^\s*$key:\s*[0-9]+" "$log" | tail -n 1 | grep -oE '[0-9]+')")"
    done
    printf '}\n'
  } > "$out"
}

# The first python3 with PyTorch: on the PATH, then in the usual virtual-environment places.
find_torch_python() {
  local candidate
  for candidate in $(command -v python3) /opt/*/.venv/bin/python3 /opt/*/venv/bin/python3 /opt/conda/bin/python3 \
                   "${HOME:-/root}"/.venv/bin/python3 /usr/local/bin/python3 /usr/bin/python3; do
    [ -x "$candidate" ] && "$candidate" -c 'import torch' 2>/dev/null && { echo "$candidate"; return; }
  done
}

find_sanitizer() {
  local candidate
  for candidate in $(command -v compute-sanitizer) /usr/local/cuda*/bin/compute-sanitizer /usr/local/cuda*/compute-sanitizer/compute-sanitizer \
                   /opt/nvidia/*/compute-sanitizer/compute-sanitizer; do
    [ -x "$candidate" ] && { echo "$candidate"; return; }
  done
}

# ---------------------------------------------------------------------------------------------
# run (there): the stages

# The search report the test printed: its first block, from "driver:" to the blank line after it.
library_search() { awk '/^ *driver: / {on = 1} on && /^ *$/ {exit} on {sub(/^    /, ""); print}' "$logs/cuda-libraries.log"; }

stage_environment() {
  need "$device/app.tar.gz" "$device/data.tar.gz" || return 1
  tar -C "$work" -xzf "$device/app.tar.gz" && tar -C "$work" -xzf "$device/data.tar.gz" || { note "unpacking failed"; return 1; }
  local log="$logs/environment.log"
  {
    echo "== machine"; uname -a; echo "$(nproc) CPUs"; free -m 2>/dev/null | head -n 2; df -h /tmp 2>/dev/null | tail -n 1
    echo "== nvidia-smi"
    if command -v nvidia-smi >/dev/null; then
      nvidia-smi 2>&1 | head -n 12
      nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,compute_cap --format=csv 2>&1
    else echo "not found"; fi
    echo "== nvcc"; command -v nvcc >/dev/null && nvcc --version 2>&1 | tail -n 2 || echo "not found"
    echo "== compute-sanitizer"; [ -n "$sanitizer" ] && "$sanitizer" --version 2>&1 | tail -n 1 || echo "not found"
    echo "== python3"
    local p
    for p in $(printf '%s\n' $(type -ap python3) /opt/*/.venv/bin/python3 /opt/*/venv/bin/python3 /usr/bin/python3 | awk '!seen[$0]++'); do
      [ -x "$p" ] && echo "$p: $("$p" -c 'import sys; print(sys.version.split()[0], end=" ")
try:
    import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "gpu" if torch.cuda.is_available() else "no gpu")
except Exception as e: print("no torch:", type(e).__name__)' 2>&1 | tail -n 1)"
    done
    echo "== loader"; ldconfig -p 2>/dev/null | grep -E 'libcuda\.so|libnvrtc|libcublas' | head -n 12
    echo "== environment"; env | grep -E '^(PATH|LD_LIBRARY_PATH|CUDA_PATH|CUDA_HOME|VIRTUAL_ENV|SCONE_[A-Z_]+)=' | sort
  } > "$log" 2>&1
  # The CUDA libraries as Scone finds them, and the report of where it looked.
  (cd "$app" && capped env SCONE_REQUIRE_CUDA=1 ./Scone.Tests --filter \
    "FullyQualifiedName~CudaLibrariesTests.TheSearchReportSaysWhereEachLibraryWasSought|FullyQualifiedName~CudaRequirementTests.TheGpuTestsRunOrAreOneSkippedGroup" \
    --output detailed) > "$logs/cuda-libraries.log" 2>&1
  local code=$?
  local gpu; gpu=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -n 1)
  echo "GPU: ${gpu:-none found by nvidia-smi}; CUDA ${tiny:+emulator }libraries: $(grep -m1 -oE 'nvrtc: [^ ]+( \([^)]*\))?' "$logs/cuda-libraries.log" || echo 'see cuda-libraries.log')" \
    > "$work/headline"
  {
    printf '{"gpu": %s, ' "$(json_string "$gpu")"
    printf '"nvidia_smi_cuda": %s, ' "$(json_string "$(nvidia-smi 2>/dev/null | grep -oE 'CUDA Version: [0-9.]+' | head -n 1)")"
    printf '"nvcc": %s, ' "$(json_string "$(nvcc --version 2>/dev/null | grep -oE 'release [0-9.]+' | head -n 1)")"
    printf '"cpus": %s, "memory_mib": %s, ' "$(nproc)" "$(json_number "$(free -m 2>/dev/null | awk '/^Mem:/ {print $2}')")"
    printf '"torch_python": %s, "compute_sanitizer": %s, ' "$(json_string "$torch_python")" "$(json_string "$sanitizer")"
    printf '"library_search": %s}\n' "$(json_string "$(library_search)")"
  } > "$logs/environment.json"
  result environment "$logs/environment.json"
  say '```'; head -n 60 "$log" | cut -c1-240 >> "$stage_md"; say '```'
  say "Where Scone looked for the CUDA libraries (SCONE_REQUIRE_CUDA=1):"
  say '```'; library_search | head -n 60 | cut -c1-300 >> "$stage_md"; say '```'
  ((code == 0)) || excerpt "$logs/cuda-libraries.log" 20
  return $code
}

stage_gpu_tests() {
  need "$app/Scone.Tests" || return 1
  local log="$logs/gpu-tests.log"
  (cd "$app" && capped env SCONE_REQUIRE_CUDA=1 ./Scone.Tests --filter "TestCategory=Gpu|FullyQualifiedName~Scone.Tests.Native" \
    --show-test-results failed) > "$log" 2>&1
  local code=$?
  test_counts "$log" "$logs/gpu-tests.json"
  result counts "$logs/gpu-tests.json"
  say "$(tr -d '{}"' < "$logs/gpu-tests.json")"
  ((code == 0)) || excerpt "$log" 30
  return $code
}

# Every kernel's registers, spills and occupancy from the NVRTC found here (scone kernels): the
# static numbers beside the measured ones, since a newer NVRTC may allocate differently.
stage_kernel_resources() {
  need "$app/scone" || return 1
  capped env -u SCONE_CUDA_EMULATOR "$app/scone" kernels --json "$logs/kernels.json" > "$logs/kernels.md" 2>&1
  local code=$?
  result kernels "$logs/kernels.json"
  if ((code == 0)); then say "$(grep -m1 -E '^No function spills|^Spills' "$logs/kernels.md")"; else excerpt "$logs/kernels.md"; fi
  return $code
}

bench_paper() {
  local variant=$1 flags=() unfused=0
  case $variant in
    tf32) flags+=(--tf32) ;;
    tf32-fast) flags+=(--tf32 --fast-math) ;;
    tf32-unfused) flags+=(--tf32); unfused=1 ;;
    tf32-bf16) flags+=(--tf32 --activations bf16) ;;
    tf32-unpadded) flags+=(--tf32 --pad-widths off) ;;
  esac
  need "$app/scone" "$data/kodim19.png" || return 1
  local out="$logs/bench-paper-$variant.json"
  SCONE_UNFUSED=$unfused capped "$app/scone" bench --device cuda --image "$data/kodim19.png" --only scone-5x250 "${bench_sizes[@]}" "${flags[@]}" \
    --out "$out" > "$logs/bench-paper-$variant.log" 2>&1
  local code=$?
  result bench "$out"
  digest "$out"
  ((code == 0)) || excerpt "$logs/bench-paper-$variant.log"
  return $code
}
stage_bench_strict() { bench_paper strict; }
stage_bench_tf32() { bench_paper tf32; }
# The fused and unfused layers, fast math, bf16 activations (with its PSNR at 2,000 steps) and
# unpadded widths (what 250 -> 256 buys) side by side with the TF32 bench above.
stage_bench_variants() {
  bench_paper tf32-fast; local fast=$?
  bench_paper tf32-unfused || return 1
  bench_paper tf32-bf16 || return 1
  bench_paper tf32-unpadded || return 1
  return $fast
}

# scone_torch.py streams JSON lines; its summary is made from the stream, whether it ended or was cut.
torch_reference() {
  local name=$1; shift
  [ -n "$torch_python" ] || { note "no python3 with PyTorch here"; return 3; }
  local torch_device=cuda
  if ! "$torch_python" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
    [ -n "$tiny" ] || { note "PyTorch sees no GPU here"; return 3; }
    torch_device=cpu
    note "PyTorch on the CPU (rehearsal)"
  fi
  need "$root/bench/reference/scone_torch.py" "$data/kodim19.npy" || return 1
  capped env PYTHONUNBUFFERED=1 "$torch_python" "$root/bench/reference/scone_torch.py" --image "$data/kodim19.npy" --device "$torch_device" "$@" \
    > "$logs/$name.jsonl" 2> "$logs/$name.log"
  local code=$?
  "$torch_python" "$root/bench/reference/scone_torch.py" --summarize "$logs/$name.jsonl" > "$logs/$name.json.partial" 2>> "$logs/$name.log" \
    && mv -f "$logs/$name.json.partial" "$logs/$name.json"
  result summary "$logs/$name.json"
  digest "$logs/$name.json"
  ((code == 0)) || { excerpt "$logs/$name.log"; return $code; }
  grep -q '"event": "error"' "$logs/$name.jsonl" && { note "a variant failed (see its error)"; return 1; }
  return 0
}
stage_torch_eager() { torch_reference torch-eager "${torch_eager[@]}"; }
stage_torch_compile() {
  # The child's own cap: what is left of the stage, less time to summarize.
  torch_reference torch-compile "${torch_compile[@]}" --compile-timeout $((stage_end - SECONDS - 15))
}

fit() {
  local name=$1; shift
  local folder="$logs/runs/$name"
  capped "$app/scone" fit "$@" --device cuda "${fit_flags[@]}" --out "$folder" > "$logs/$name.log" 2>&1
  local code=$?
  result metrics "$folder/metrics.json"
  rm -rf "$folder/model.safetensors" "$folder/mesh.ply" "$folder/frames" "$folder/reconstruction.png"
  digest "$folder/metrics.json"
  ((code == 0)) || excerpt "$logs/$name.log"
  return $code
}
stage_scone_kodim19() { need "$data/kodim19.png" && fit scone-kodim19 image "$data/kodim19.png" "${image_sizes[@]}"; }
stage_siren_kodim19() { need "$data/kodim19.png" && fit siren-kodim19 image "$data/kodim19.png" --model siren "${image_sizes[@]}"; }
stage_scone_cat() { need "$data/cat.npy" && fit scone-cat video "$data/cat.npy" "${video_sizes[@]}"; }
stage_scone_bunny() { need "$data/bunny.xyz" && fit scone-bunny sdf "$data/bunny.xyz" "${sdf_sizes[@]}"; }

# Memcheck and racecheck on the kernel tests (not the training runs, which memcheck would slow
# past the cap); skipped with a note where the sanitizer is missing or refuses the device.
stage_sanitizer() {
  [ -n "$sanitizer" ] || { note "compute-sanitizer not found"; return 3; }
  local filter="TestCategory=Gpu&FullyQualifiedName!~CudaTrainingTests&FullyQualifiedName!~CudaFitCommandTests" tool status=0
  for tool in memcheck racecheck; do
    local log="$logs/sanitizer-$tool.log"
    (cd "$app" && capped env SCONE_REQUIRE_CUDA=1 "$sanitizer" --tool "$tool" --target-processes all --report-api-errors no \
      --error-exitcode 99 --print-limit 50 ./Scone.Tests --filter "$filter" --show-test-results failed) > "$log" 2>&1
    local code=$?
    local errors; errors=$(grep -oE 'ERROR SUMMARY: [0-9]+' "$log" | tail -n 1 | grep -oE '[0-9]+$')
    printf '{"exit": %s, "errors": %s}\n' "$code" "$(json_number "$errors")" > "$logs/sanitizer-$tool.json"
    result "$tool" "$logs/sanitizer-$tool.json"
    if grep -qiE 'device not supported|not supported on this|unsupported device' "$log"; then
      note "compute-sanitizer does not support the device here: $(grep -m1 -iE 'not supported|unsupported' "$log" | cut -c1-160)"
      return 3
    fi
    say "$tool: exit $code, ${errors:-no} errors reported"
    ((code == 0)) || { excerpt "$log" 20; status=$code; }
    ((code == 124 || code == 137)) && return $code
  done
  return $status
}

run() {
  : "${OUT:?run writes under \$OUT}"
  mkdir -p "$OUT"
  tiny=${SCONE_DEVICE_TINY:+1}
  budget=${SCONE_DEVICE_BUDGET_S:-540}
  # The rehearsal's emulator runs the kernels on the CPU's cores: its caps are scaled, a GPU's are not.
  cap_scale=${SCONE_DEVICE_CAP_SCALE:-1}
  fit_precision=${SCONE_DEVICE_FIT_PRECISION:-tf32}
  deadline=$((SECONDS + budget))
  started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  upload=$(cat "$device/upload-bytes" 2>/dev/null || echo unknown)
  work=${SCONE_DEVICE_WORK:-/tmp/scone-device}
  rm -rf "$work" && mkdir -p "$work/stages" "$work/logs/runs" || die "cannot create $work"
  logs="$work/logs" app="$work/app" data="$work/data"
  # One kernel cache and one SDF ground-truth cache for every stage.
  export XDG_CACHE_HOME="$work/cache" SCONE_CACHE_DIR="$work/cache/sdf"
  export TESTINGPLATFORM_TELEMETRY_OPTOUT=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
  # Where GPU machines keep the driver's and the toolkit's tools, in case the PATH does not say.
  export PATH="$PATH:/usr/local/nvidia/bin:/usr/local/cuda/bin"
  py=$(command -v python3 || true)
  torch_python=$(find_torch_python)
  sanitizer=$(find_sanitizer)
  fit_flags=()
  [ "$fit_precision" = tf32 ] && fit_flags+=(--tf32)
  if [ -n "$tiny" ]; then
    bench_sizes=(--steps 2 --warmup 1 --psnr-steps 6)
    torch_eager=(--variants eager-fp32:3,eager-tf32:2 --warmup 1 --chunk 2)
    torch_compile=(--variants compile-fp32:2 --warmup 1)
    image_sizes=(--steps 3)
    video_sizes=(--steps 3 --batch 4096)
    sdf_sizes=(--steps 3 --batch 2000 --hidden 16 --grid 16)
  else
    bench_sizes=(--steps 20 --warmup 5 --psnr-steps 2000)
    torch_eager=(--variants eager-fp32:2000,eager-tf32:300 --warmup 50)
    torch_compile=(--variants compile-fp32:2000 --warmup 50)
    image_sizes=()
    video_sizes=(--eval-every 2500)
    sdf_sizes=()
  fi

  stage environment         15  60 stage_environment
  stage gpu-tests           40 150 stage_gpu_tests
  stage kernel-resources    10  60 stage_kernel_resources
  stage bench-paper-strict  35  90 stage_bench_strict
  stage bench-paper-tf32    25  75 stage_bench_tf32
  stage torch-eager         85 150 stage_torch_eager
  stage bench-variants     100 230 stage_bench_variants
  stage scone-kodim19       70 150 stage_scone_kodim19
  stage siren-kodim19       60 130 stage_siren_kodim19
  stage scone-cat           60 130 stage_scone_cat
  stage scone-bunny         80 180 stage_scone_bunny
  stage sanitizer           60 120 stage_sanitizer
  stage torch-compile       45 600 stage_torch_compile
  echo "device-check: done in ${SECONDS} s; $OUT holds $(ls "$OUT" | tr '\n' ' ')" >&2
}

# ---------------------------------------------------------------------------------------------
# rehearse (here)

# What a GPU run may return: at most 8 files, 16 MiB each, 64 MiB in all, no deeper than two
# folders, names of letters, digits, '.', '_' and '-'; and the three files run writes.
check_returned() {
  local out=$1 problems=() count=0 total=0 f size rel
  while IFS= read -r -d '' f; do
    count=$((count + 1))
    size=$(stat -c %s "$f"); total=$((total + size))
    rel=${f#"$out"/}
    ((size <= 16 * 1024 * 1024)) || problems+=("$rel is $size bytes, over 16 MiB")
    (($(tr -cd '/' <<< "$rel" | wc -c) <= 2)) || problems+=("$rel is more than two folders down")
    [[ "$rel" =~ ^[A-Za-z0-9._/-]+$ ]] || problems+=("$rel has a character the device tool does not return")
  done < <(find "$out" -type f -print0)
  ((count <= 8)) || problems+=("$count files, over 8")
  ((total <= 64 * 1024 * 1024)) || problems+=("$total bytes in all, over 64 MiB")
  for f in report.md summary.json logs.tar.gz; do [ -s "$out/$f" ] || problems+=("$f missing"); done
  python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$out/summary.json" 2>/dev/null || problems+=("summary.json is not JSON")
  tar -tzf "$out/logs.tar.gz" > /dev/null 2>&1 || problems+=("logs.tar.gz is not a gzip tar")
  echo "device-check: returned $count files, $total bytes"
  ((${#problems[@]} == 0)) || { printf 'device-check: returned files: %s\n' "${problems[@]}" >&2; return 1; }
}

# Which stages the rehearsal must pass: every Scone stage, the sanitizer's (with the stand-in).
# PyTorch's pass or skip (no PyTorch) and torch.compile's outcome depend on the machine.
check_stages() {
  python3 - "$1/summary.json" <<'EOF'
import json, sys
summary = json.load(open(sys.argv[1]))
stages = {s["name"]: s for s in summary["stages"]}
must_pass = ["environment", "gpu-tests", "kernel-resources", "bench-paper-strict", "bench-paper-tf32", "bench-variants", "scone-kodim19",
             "siren-kodim19", "scone-cat", "scone-bunny", "sanitizer"]
problems = [f"{name}: {stages.get(name, {}).get('status', 'absent')} ({stages.get(name, {}).get('note', '')})" for name in must_pass
            if stages.get(name, {}).get("status") != "passed"]
if stages.get("torch-eager", {}).get("status") not in ("passed", "skipped"):
    problems.append(f"torch-eager: {stages.get('torch-eager')}")
tests = stages.get("gpu-tests", {}).get("results", {}).get("counts", {})
if not tests.get("succeeded") or tests.get("failed"):
    problems.append(f"gpu-tests counts {tests}")
for name in ["bench-paper-strict", "scone-kodim19", "scone-cat", "scone-bunny"]:
    if not stages.get(name, {}).get("results"):
        problems.append(f"{name}: no results in summary.json")
for s in summary["stages"]:
    print(f"  {s['name']:20} {s['status']:8} {s['seconds']:4} s  {s['note'][:120]}")
if problems:
    print("device-check: rehearsal: " + "; ".join(problems), file=sys.stderr)
    sys.exit(1)
EOF
}

rehearse() {
  local start=$SECONDS
  prepare
  local emulator build_log; build_log=$(mktemp)
  emulator=$("$root/scripts/build-emulator.sh" 2> "$build_log" | tail -n 1) || { cat "$build_log" >&2; die "building the CUDA emulator failed"; }
  rm -f "$build_log"
  # The rehearsal reads summary.json with python3 (the device has one).
  if ! command -v python3 >/dev/null; then
    command -v apt-get >/dev/null || die "the rehearsal needs python3"
    echo "device-check: installing python3" >&2
    { DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3; } >&2 \
      || die "installing python3 failed"
  fi
  local scratch; scratch=$(mktemp -d)
  # The tree as the device tool sends it, with artifacts/device carried; tiny inputs under the same names.
  mkdir -p "$scratch/repo" "$scratch/home" "$scratch/out" "$scratch/bin"
  (cd "$root" && git ls-files -co --exclude-standard -z | tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -C "$scratch/repo" -xf -) \
    || die "copying the tree failed"
  mkdir -p "$scratch/repo/artifacts" && cp -r "$device" "$scratch/repo/artifacts/device"
  local unpacked; unpacked=$(mktemp -d)
  tar -C "$unpacked" -xzf "$device/app.tar.gz"
  device="$scratch/repo/artifacts/device" pack_data tiny "$unpacked/app/scone"
  rm -rf "$unpacked"
  # No .NET on the device: a dotnet first on the PATH that only leaves a mark. And a stand-in
  # compute-sanitizer (no GPU here), which drops its options, runs the program and prints the
  # real one's summary line, so that the sanitizer stage runs as far as it can without a GPU.
  printf '#!/bin/sh\necho "dotnet called: $*" >&2\ntouch %s/dotnet-called\nexit 127\n' "$scratch" > "$scratch/bin/dotnet"
  cat > "$scratch/bin/compute-sanitizer" <<'EOF'
#!/bin/sh
while [ $# -gt 0 ]; do
  case "$1" in
    --version) echo "compute-sanitizer stand-in for the rehearsal"; exit 0 ;;
    --tool|--target-processes|--report-api-errors|--error-exitcode|--print-limit) shift 2 ;;
    --*) shift ;;
    *) break ;;
  esac
done
"$@"; code=$?
echo "========= ERROR SUMMARY: 0 errors"
exit $code
EOF
  chmod +x "$scratch/bin/dotnet" "$scratch/bin/compute-sanitizer"
  (cd "$scratch/repo" && env -i PATH="$scratch/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" HOME="$scratch/home" \
    OUT="$scratch/out" SCONE_CUDA_EMULATOR="$emulator" SCONE_DEVICE_TINY=1 SCONE_DEVICE_BUDGET_S=1200 SCONE_DEVICE_CAP_SCALE=3 SCONE_DEVICE_WORK="$scratch/work" \
    bash scripts/device-check.sh run) || die "the rehearsed run failed"
  local ok=0
  [ -e "$scratch/dotnet-called" ] && { echo "device-check: the run called dotnet, which the device does not have" >&2; ok=1; }
  check_returned "$scratch/out" || ok=1
  check_stages "$scratch/out" || ok=1
  echo "device-check: rehearsal $( ((ok == 0)) && echo passed || echo FAILED) in $((SECONDS - start)) s; its files: $scratch/out" >&2
  rm -rf "$scratch/work" "$scratch/repo"
  return $ok
}

case "${1:-}" in
  prepare) prepare ;;
  run) run ;;
  rehearse) rehearse ;;
  *) sed -n '2,/^set /p' "${BASH_SOURCE[0]}" | grep '^#' | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
