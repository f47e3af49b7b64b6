#!/usr/bin/env python3
"""SCONE image training in PyTorch, written from the spec (shared/spec/SCONE.md §1-§2), as the baseline of
`scone bench --device cuda` (issue 3, "Benchmark").

The paper's image protocol: a 768 x 512 image, every pixel every step (393,216 samples), SCONE with
L = 5 (four collage layers of width 250 and a linear output), w0 = 30, omegas 90, 60, 30, 10,
sin^2 masks, Adam (0.9, 0.999, 1e-8) at lr 1e-4 with cosine annealing to 1e-6.

Runs each requested variant (eager or torch.compile, strict float32 or TF32) from the same
initial parameters and times every step (CUDA events on a GPU). Its output is a stream of JSON
lines, flushed as it goes, so that a run cut short keeps every step done:
  {"event": "start", ...}                     the device, versions and image
  {"event": "steps", "variant": ..., "first": s, "ms": [...], "loss": [...], "psnr": [...]}
                                              per-step timings and values, a chunk at a time
  {"event": "result", ...}                    a variant's summary, when it finishes
  {"event": "error", "variant": ..., "error": ...}   a variant that failed
The summary of a variant: the median (and 10th/90th percentile) milliseconds per step over the
steps after warm-up, and the final and best PSNR (spec §4: both images mapped to [0, 1] and
clipped). `--summarize FILE` prints the summaries of a stream (finished or not) as one JSON document.

torch.compile variants run each in a child process with its own time limit (--compile-timeout),
after the eager ones: compiling can fail (no C compiler) or take minutes, and must cost neither
the eager numbers nor the caller's time budget.

    python scone_torch.py [--image kodim19.npy] [--steps 2000] [--warmup 50] [--device cuda]
                          [--variants eager-fp32,eager-tf32:500,compile-fp32] [--compile-timeout 300]
    python scone_torch.py --summarize stream.jsonl

A variant may carry its own step count after a colon. Without --image a deterministic synthetic
768 x 512 test pattern is used.
"""
import argparse
import json
import math
import statistics
import subprocess
import sys
import threading
import time

import torch
from torch import nn

HEIGHT, WIDTH = 512, 768
HIDDEN, LAYERS = 250, 5
W0 = 30.0
OMEGAS = (90.0, 60.0, 30.0, 10.0)
LR, FINAL_LR = 1e-4, 1e-6


class Linear(nn.Module):
    """nn.Linear under a `.linear` name, so that parameter names match the authors' code and Scone's checkpoints."""

    def __init__(self, fan_in, fan_out):
        super().__init__()
        self.linear = nn.Linear(fan_in, fan_out)

    def forward(self, x):
        return self.linear(x)


class Scone(nn.Module):
    """Spec §1: z_l = sin^2(w0 (A_l z_{l-1} + a_l)) * sin(omega_l (B_l x + c_l)); y = W z + b."""

    def __init__(self, dims=2, outputs=3, hidden=HIDDEN, layers=LAYERS, w0=W0, omegas=OMEGAS):
        super().__init__()
        hidden_layers = layers - 1
        assert len(omegas) == hidden_layers
        self.w0 = w0
        self.omegas = tuple(omegas)
        self.net = nn.ModuleList(Linear(dims if l == 0 else hidden, hidden) for l in range(hidden_layers))
        self.rffs = nn.ModuleList(Linear(dims, hidden) for _ in range(hidden_layers))
        self.last_layer = Linear(hidden, outputs)
        self.reset_parameters(dims, hidden)

    @torch.no_grad()
    def reset_parameters(self, dims, hidden):
        # Spec §1, "Initialisation": the first mask layer U(-1/d, 1/d); later mask layers and the
        # output U(-sqrt(6/D)/w0, sqrt(6/D)/w0), weights and biases; bases U(-1/sqrt(d), 1/sqrt(d)).
        for l, layer in enumerate(self.net):
            bound = 1.0 / dims if l == 0 else math.sqrt(6.0 / hidden) / self.w0
            layer.linear.weight.uniform_(-bound, bound)
            layer.linear.bias.uniform_(-bound, bound)
        for basis in self.rffs:
            bound = 1.0 / math.sqrt(dims)
            basis.linear.weight.uniform_(-bound, bound)
            basis.linear.bias.uniform_(-bound, bound)
        bound = math.sqrt(6.0 / hidden) / self.w0
        self.last_layer.linear.weight.uniform_(-bound, bound)
        self.last_layer.linear.bias.uniform_(-bound, bound)

    def forward(self, x):
        z = x
        for mask, basis, omega in zip(self.net, self.rffs, self.omegas):
            g = torch.sin(omega * basis(x))  # every basis from the raw coordinates
            m = torch.sin(self.w0 * mask(z)) ** 2
            z = m * g
        return self.last_layer(z)


def coordinates(height, width, device):
    """Spec §3: pixel (i, j) at (-1 + 2i/(H-1), -1 + 2j/(W-1)), row first; [H*W, 2]."""
    rows = torch.linspace(-1, 1, height, device=device)
    cols = torch.linspace(-1, 1, width, device=device)
    grid = torch.stack(torch.meshgrid(rows, cols, indexing="ij"), dim=-1)
    return grid.reshape(-1, 2).contiguous()


def load_image(path, device):
    """An RGB image in [0, 1] as [H, W, 3]; alpha dropped (spec §3)."""
    if path is None:
        x = coordinates(HEIGHT, WIDTH, device).reshape(HEIGHT, WIDTH, 2)
        r, c = x[..., 0], x[..., 1]
        # Smooth gradients, a ring pattern and a hard edge: a signal with detail at several scales.
        red = 0.5 + 0.4 * torch.sin(6 * c + 2 * r)
        green = 0.5 + 0.45 * torch.cos(40 * torch.sqrt(r * r + c * c))
        blue = 0.2 + 0.6 * (r * c > 0).float() + 0.1 * torch.sin(25 * c)
        return torch.stack([red, green, blue], dim=-1).clamp(0, 1)
    if path.endswith(".npy"):
        return load_npy(path, device)
    from PIL import Image  # only needed for a real image other than .npy

    image = Image.open(path).convert("RGB")
    data = torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8).reshape(image.height, image.width, 3)
    return (data.to(device=device, dtype=torch.float32) / 255.0).contiguous()


def load_npy(path, device):
    """A uint8 .npy array [H, W, 3] or [1, H, W, 3] (what `scone convert-video` writes), without numpy or PIL."""
    import ast

    with open(path, "rb") as f:
        data = f.read()
    if data[:6] != b"\x93NUMPY":
        raise SystemExit(f"{path}: not a .npy file")
    major = data[6]
    header_length = int.from_bytes(data[8:10] if major == 1 else data[8:12], "little")
    start = (10 if major == 1 else 12) + header_length
    header = ast.literal_eval(data[(10 if major == 1 else 12):start].decode("latin1"))
    shape = tuple(header["shape"])
    if header["descr"] not in ("|u1", "<u1") or header["fortran_order"] or shape[-1] != 3 or len(shape) not in (3, 4):
        raise SystemExit(f"{path}: expected a C-order uint8 array [H, W, 3] or [1, H, W, 3], got {header}")
    height, width = shape[-3], shape[-2]
    pixels = torch.frombuffer(bytearray(data[start:start + height * width * 3]), dtype=torch.uint8).reshape(height, width, 3)
    return (pixels.to(device=device, dtype=torch.float32) / 255.0).contiguous()


def cosine_lr(step, steps, lr=LR, final=FINAL_LR):
    """Spec §2: lr_t = final + (lr - final) (1 + cos(pi t / T)) / 2, t = 0 .. T-1."""
    return final + (lr - final) * (1 + math.cos(math.pi * step / steps)) / 2


def psnr_from_mse(mse):
    return 10 * math.log10(1 / mse)


def emit(event, **fields):
    """One line of the stream, flushed at once."""
    print(json.dumps({"event": event, **fields}), flush=True)


class StepTimer:
    """Per-step times: CUDA events on a GPU (read a chunk at a time, no sync inside a chunk), the wall clock on the CPU."""

    def __init__(self, device, steps):
        self.cuda = device.type == "cuda"
        if self.cuda:
            self.starts = [torch.cuda.Event(enable_timing=True) for _ in range(steps)]
            self.ends = [torch.cuda.Event(enable_timing=True) for _ in range(steps)]
        else:
            self.times = [0.0] * steps

    def start(self, step):
        if self.cuda:
            self.starts[step].record()
        else:
            self.times[step] = time.perf_counter()

    def stop(self, step):
        if self.cuda:
            self.ends[step].record()
        else:
            self.times[step] = (time.perf_counter() - self.times[step]) * 1e3

    def milliseconds(self, first, last):
        """The times of steps first..last-1; waits for the last of them."""
        if not self.cuda:
            return self.times[first:last]
        self.ends[last - 1].synchronize()
        return [self.starts[s].elapsed_time(self.ends[s]) for s in range(first, last)]


def summarize(variant, steps, warmup, ms, loss, psnr, final_psnr=None, extra=None):
    """A variant's summary from its per-step values (all steps, or those done before it was cut short)."""
    timed = sorted(ms[min(warmup, len(ms)):])
    done = len(ms)
    summary = {
        "variant": variant,
        "steps": steps,
        "steps_done": done,
        "complete": done == steps,
        "warmup_steps": min(warmup, done),
        "median_ms_per_step": statistics.median(timed) if timed else None,
        "p10_ms_per_step": timed[len(timed) // 10] if timed else None,
        "p90_ms_per_step": timed[(9 * len(timed)) // 10] if timed else None,
        "final_loss": loss[-1] if loss else None,
        # Step t measures the parameters before its update; the final network is measured after the last.
        "psnr_final": final_psnr,
        "psnr_best": max([p for p in psnr if p is not None] + ([final_psnr] if final_psnr is not None else []), default=None),
    }
    summary.update(extra or {})
    return summary


def run(variant, steps, image, warmup, seed, adam_impl, chunk):
    """Trains one variant in this process, streaming its steps; returns its summary."""
    compiled, precision = variant.split("-")
    tf32 = precision == "tf32"
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    torch.set_float32_matmul_precision("high" if tf32 else "highest")

    device = image.device
    height, width, _ = image.shape
    x = coordinates(height, width, device)
    target = (image.reshape(-1, 3) * 2 - 1).contiguous()  # [0, 1] -> [-1, 1] (spec §2)

    torch.manual_seed(seed)
    model = Scone().to(device)
    options = {"fused": True} if adam_impl == "fused" else {"foreach": True}
    optimizer = torch.optim.Adam(model.parameters(), lr=LR, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, **options)

    def forward_loss(inputs, targets):
        y = model(inputs)
        loss = torch.mean((y - targets) ** 2)
        # The PSNR's squared error (spec §4), computed in the step as Scone's loss kernel does.
        with torch.no_grad():
            clipped = torch.mean((((y + 1) / 2).clamp(0, 1) - ((targets + 1) / 2).clamp(0, 1)) ** 2)
        return loss, clipped

    step_forward = torch.compile(forward_loss) if compiled == "compile" else forward_loss

    losses = torch.zeros(steps, device=device)
    clipped_mse = torch.zeros(steps, device=device)
    timer = StepTimer(device, steps)
    ms, loss_values, psnr_values = [], [], []

    wall = time.perf_counter()
    first = 0
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = cosine_lr(step, steps)
        timer.start(step)
        loss, clipped = step_forward(x, target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        timer.stop(step)
        # Stored on the device: the host waits only once a chunk, not inside it.
        losses[step] = loss.detach()
        clipped_mse[step] = clipped
        if step + 1 - first == chunk or step + 1 == steps:
            chunk_ms = timer.milliseconds(first, step + 1)
            chunk_loss = losses[first:step + 1].double().cpu().tolist()
            chunk_psnr = [psnr_from_mse(m) if m > 0 else None for m in clipped_mse[first:step + 1].double().cpu().tolist()]
            emit("steps", variant=variant, first=first, ms=chunk_ms, loss=chunk_loss, psnr=chunk_psnr)
            ms += chunk_ms
            loss_values += chunk_loss
            psnr_values += chunk_psnr
            first = step + 1
    wall = time.perf_counter() - wall

    # The network after the last update, as Scone's final evaluation measures it.
    with torch.no_grad():
        _, final = forward_loss(x, target)
    return summarize(variant, steps, warmup, ms, loss_values, psnr_values, psnr_from_mse(float(final)), {
        "compile": compiled == "compile",
        "tf32": tf32,
        "adam": adam_impl,
        "wall_seconds": wall,
        "parameters": sum(p.numel() for p in model.parameters()),
    })


def run_child(variant, steps, args):
    """Runs one variant in a child process with its own time limit, relaying its stream; a failure is an error line."""
    command = [sys.executable, __file__, "--variants", f"{variant}:{steps}", "--warmup", str(args.warmup), "--seed", str(args.seed),
               "--adam", args.adam, "--device", args.device, "--chunk", str(args.chunk), "--child"]
    if args.image:
        command += ["--image", args.image]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    finished = []

    def relay():
        for line in child.stdout:
            event = json.loads(line)
            if event.get("event") != "start":
                print(line, end="", flush=True)
            if event.get("event") in ("result", "error"):
                finished.append(event["event"])

    reader = threading.Thread(target=relay, daemon=True)
    reader.start()
    try:
        child.wait(timeout=args.compile_timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
        reader.join(timeout=5)
        emit("error", variant=variant, error=f"stopped after its limit of {args.compile_timeout:.0f} s (--compile-timeout)")
        return
    reader.join(timeout=5)
    if child.returncode != 0 and not finished:
        emit("error", variant=variant, error=f"the child process exited with {child.returncode} (its error is on stderr)")


def summarize_stream(lines):
    """The summaries of a stream: each variant's result line, or one computed from the steps it streamed."""
    start, results, errors, chunks = None, {}, {}, {}
    for line in lines:
        line = line.strip()
        if not line:
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue  # the last line of a stream cut off mid-write
        kind = event.get("event")
        if kind == "start":
            start = event
        elif kind == "steps":
            chunks.setdefault(event["variant"], []).append(event)
        elif kind == "result":
            results[event["variant"]] = event
        elif kind == "error":
            errors[event["variant"]] = event["error"]
    planned = (start or {}).get("variants", {})
    summaries = []
    for variant in dict.fromkeys(list(planned) + list(chunks) + list(results) + list(errors)):
        if variant in results:
            summary = {k: v for k, v in results[variant].items() if k != "event"}
        else:
            ms, loss, psnr = [], [], []
            for c in sorted(chunks.get(variant, []), key=lambda c: c["first"]):
                ms += c["ms"]
                loss += c["loss"]
                psnr += c["psnr"]
            summary = summarize(variant, planned.get(variant, len(ms)), (start or {}).get("warmup", 0), ms, loss, psnr)
        if variant in errors:
            summary["error"] = errors[variant]
        summaries.append(summary)
    header = {k: v for k, v in (start or {}).items() if k not in ("event", "variants")}
    return {"reference": "bench/reference/scone_torch.py", **header, "results": summaries}


def parse_variants(text, steps):
    """'eager-fp32,compile-tf32:500' -> {'eager-fp32': steps, 'compile-tf32': 500}, checked."""
    variants = {}
    for item in text.split(","):
        name, _, count = item.partition(":")
        if name not in ("eager-fp32", "eager-tf32", "compile-fp32", "compile-tf32"):
            sys.exit(f"scone_torch.py: unknown variant {name} (eager-fp32, eager-tf32, compile-fp32, compile-tf32)")
        variants[name] = int(count) if count else steps
        if variants[name] < 1:
            sys.exit(f"scone_torch.py: {item}: steps must be at least 1")
    return variants


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--image", help="an RGB image (the paper uses Kodak's 768 x 512 ones); default: a synthetic 768 x 512 pattern")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=50, help="steps left out of the timing (compilation, allocator warm-up)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--variants", default="eager-fp32,eager-tf32,compile-fp32,compile-tf32")
    parser.add_argument("--adam", choices=["foreach", "fused"], default="foreach", help="PyTorch's default on CUDA is foreach")
    parser.add_argument("--device", default="cuda", help="cuda (the benchmark), or cpu to try the script where there is no GPU")
    parser.add_argument("--chunk", type=int, default=100, help="steps per streamed line")
    parser.add_argument("--compile-timeout", type=float, default=300, help="seconds each torch.compile variant may take, compiling included")
    parser.add_argument("--summarize", metavar="STREAM", help="print the summaries of a stream this script wrote, and exit")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.summarize:
        with open(args.summarize, encoding="utf-8", errors="replace") as stream:
            print(json.dumps(summarize_stream(stream), indent=2))
        return
    variants = parse_variants(args.variants, args.steps)
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("scone_torch.py: needs a CUDA GPU (or --device cpu)")
    device = torch.device(args.device)
    image = load_image(args.image, device)
    emit("start", device=torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu", torch=torch.__version__,
         cuda=torch.version.cuda, image=args.image or f"synthetic {WIDTH}x{HEIGHT}", height=image.shape[0], width=image.shape[1],
         warmup=args.warmup, variants=variants)
    eager = {v: n for v, n in variants.items() if v.startswith("eager")}
    compiled = {v: n for v, n in variants.items() if v.startswith("compile")}
    if args.child:
        eager, compiled = variants, {}
    for variant, steps in eager.items():
        try:
            emit("result", **run(variant, steps, image, args.warmup, args.seed, args.adam, args.chunk))
        except Exception as error:  # one variant's failure (out of memory, a compiler error) must not cost the others
            emit("error", variant=variant, error=f"{type(error).__name__}: {error}")
            if args.child:
                raise
    for variant, steps in compiled.items():
        run_child(variant, steps, args)


if __name__ == "__main__":
    main()
