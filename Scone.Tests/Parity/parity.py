"""The PyTorch side of Scone's parity tests (Scone.Tests/Parity), in the manner of llm.c's test_gpt2.

    parity.py MANIFEST RESULTS     # every case of MANIFEST (JSON, written by PyTorchParityTests.cs)
    parity.py --self-check         # only the checks of the PyTorch models themselves

For each case and in float64 and float32: load the Scone checkpoint with load_state_dict(strict=True),
then compute on the case's batch the output y, the MSE loss, every trained parameter's gradient, and
the losses of `steps` Adam steps (beta 0.9/0.999, eps 1e-8) with PyTorch's CosineAnnealingLR down to
1e-6 over those steps, and the parameters after them. One process does every case, since importing
torch costs more than the cases. RESULTS is a safetensors file of tensors named
`{case}/{f64|f32}/{y|loss|losses|grad/NAME|final/NAME}`; its metadata holds `{case}/{f64|f32}/load`
("ok" or why the checkpoint did not load), `self_check` ("ok" or the failures) and `torch`.

Exit status 3: torch cannot be imported (the C# side then skips, or fails in CI).
"""

import json
import sys
import tempfile

try:
    import torch
except ImportError as error:
    print(f"parity.py: cannot import torch ({error})", file=sys.stderr)
    sys.exit(3)

import safetensors_io
import scone_models

PRECISIONS = {"f64": torch.float64, "f32": torch.float32}
FINAL_RATE = 1e-6
BETAS = (0.9, 0.999)
EPSILON = 1e-8

# Trained parameter counts of the paper's configurations (SCONE.md §1, §5; BASELINES.md §1-3), and fixed values.
PAPER_COUNTS = [
    ("scone image", dict(model="scone", dims=2, outputs=3, width=250, hidden_layers=4, w0=30, omegas=[90, 60, 30, 10]), 192_753, 0),
    ("scone video", dict(model="scone", dims=3, outputs=3, width=250, hidden_layers=4, w0=30, omegas=[90, 60, 30, 10]), 194_003, 0),
    ("scone shape", dict(model="scone", dims=3, outputs=1, width=250, hidden_layers=7, w0=30, omegas=[70, 70, 60, 50, 40, 40, 30]), 384_751, 0),
    ("scone sigmoid-l", dict(model="scone", dims=2, outputs=3, width=250, hidden_layers=4, w0=30, omegas=[90, 60, 30, 10], mask="sigmoid-l"), 192_757, 0),
    ("rbm 16x12", dict(model="rbm", dims=2, outputs=3, width=250, hidden_layers=4, w0=30, omegas=[90, 60, 30, 10], grid=[16, 12]), 192_753, 4 * 250 * 16 * 12),
    ("siren image", dict(model="siren", dims=2, outputs=3, width=256, hidden_layers=4, w0=30), 198_915, 0),
    ("ffn d=2", dict(model="ffn", dims=2, outputs=3, width=256, hidden_layers=3), 198_147, 128 * 2),
    ("ffn d=3", dict(model="ffn", dims=3, outputs=3, width=256, hidden_layers=3), 198_147, 128 * 3),
    ("mfn d=2", dict(model="mfn", dims=2, outputs=3, width=256, hidden_layers=4), 204_291, 0),
    ("mfn d=3", dict(model="mfn", dims=3, outputs=3, width=256, hidden_layers=4), 206_339, 0),
    ("wire d=2", dict(model="wire", dims=2, outputs=3, width=254, hidden_layers=4), 195_837, 8),
    ("wire d=3", dict(model="wire", dims=3, outputs=3, width=254, hidden_layers=4), 196_091, 8),
]

# Small models for the checks that need values: every kind, with awkward sizes.
SMALL = [
    dict(model="scone", dims=2, outputs=3, width=7, hidden_layers=3, w0=30, omegas=[90, 30, 10], mask="ntanh-l"),
    dict(model="rbm", dims=2, outputs=3, width=6, hidden_layers=2, w0=30, omegas=[90, 30], grid=[3, 5]),
    dict(model="siren", dims=3, outputs=1, width=5, hidden_layers=2, w0=30),
    dict(model="ffn", dims=3, outputs=2, width=9, hidden_layers=3, frequencies=4),
    dict(model="mfn", dims=2, outputs=3, width=6, hidden_layers=4),
    dict(model="mfn", dims=1, outputs=2, width=5, hidden_layers=3, filter="fourier"),
    dict(model="wire", dims=3, outputs=3, width=4, hidden_layers=3),
]


def self_check(folder):
    """The PyTorch models against the spec's counts, and their state_dicts through safetensors_io and
    back with a strict load (WIRE's complex pairs included). Returns the failures."""
    failures = []
    for label, description, trained, fixed in PAPER_COUNTS:
        model = scone_models.build(description)
        counts = (scone_models.trained_count(model), scone_models.fixed_count(model))
        if counts != (trained, fixed):
            failures.append(f"{label}: {counts[0]} trained and {counts[1]} fixed values, the spec says {trained} and {fixed}")
    torch.manual_seed(0)
    for description in SMALL:
        model = scone_models.build(description).double()
        with torch.no_grad():
            for tensor in model.state_dict().values():
                tensor.uniform_(-1, 1)
        path = f"{folder}/self-check.safetensors"
        safetensors_io.write(path, model.state_dict())
        twin = scone_models.build(description).double()
        twin.load_state_dict(safetensors_io.read(path)[0], strict=True)
        x = torch.rand(15, description["dims"], dtype=torch.float64) * 2 - 1
        if not torch.equal(model(x), twin(x)):
            failures.append(f"{description['model']}: a state_dict written and read back gives another output")
    wavelet = scone_models.GaborWavelet(3, 4, False, 20.0, 20.0).double()
    t = torch.complex(torch.randn(9, 4, dtype=torch.float64), torch.randn(9, 4, dtype=torch.float64)) / 20
    a, b = t.real, t.imag
    spelled = torch.exp(-20 * b - 400 * (a * a + b * b)) * torch.complex(torch.cos(20 * a), torch.sin(20 * a))
    wavelet.linear = torch.nn.Identity()
    if not torch.allclose(wavelet(t), spelled, rtol=1e-12, atol=0):
        failures.append("the complex Gabor wavelet differs from its real form in BASELINES.md section 3")
    learnable = scone_models.build(SMALL[0]).double()
    plain = scone_models.build(dict(SMALL[0], mask="ntanh")).double()
    plain.load_state_dict({k: v for k, v in learnable.state_dict().items() if not k.endswith(".scale")}, strict=True)
    x = torch.rand(11, 2, dtype=torch.float64) * 2 - 1
    if not torch.equal(learnable(x), plain(x)):
        failures.append("a learnable mask scale of 1 changes the output")
    return failures


def load(case, dtype):
    model = scone_models.build(case).to(dtype)
    tensors, _ = safetensors_io.read(case["checkpoint"])
    model.load_state_dict({name: t.to(dtype) for name, t in tensors.items()}, strict=True)
    return model


def run_case(case, results, metadata):
    data, _ = safetensors_io.read(case["data"])
    for label, dtype in PRECISIONS.items():
        key = f"{case['name']}/{label}"
        try:
            model = load(case, dtype)
        except Exception as error:  # the failure is the test's result, reported per case
            metadata[f"{key}/load"] = f"{type(error).__name__}: {error}"
            continue
        metadata[f"{key}/load"] = "ok"
        x, target = data["x"].to(dtype), data["target"].to(dtype)
        trained = [(name, p) for name, p in model.named_parameters() if p.requires_grad]

        y = model(x)
        loss = torch.mean((y - target) ** 2)
        loss.backward()
        results[f"{key}/y"] = y.detach()
        results[f"{key}/loss"] = loss.detach().reshape(1)
        for name, p in trained:
            results[f"{key}/grad/{name}"] = p.grad.detach()

        model = load(case, dtype)
        parameters = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.Adam(parameters, lr=case["lr"], betas=BETAS, eps=EPSILON)
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=case["steps"], eta_min=FINAL_RATE)
        losses = []
        for _ in range(case["steps"]):
            optimizer.zero_grad()
            loss = torch.mean((model(x) - target) ** 2)
            losses.append(loss.detach())
            loss.backward()
            optimizer.step()
            schedule.step()
        results[f"{key}/losses"] = torch.stack(losses)
        for name, tensor in model.state_dict().items():
            results[f"{key}/final/{name}"] = tensor.detach()


def main(arguments):
    torch.set_num_threads(1)
    if arguments == ["--self-check"]:
        with tempfile.TemporaryDirectory() as folder:
            failures = self_check(folder)
        print("\n".join(failures) or "ok")
        return 1 if failures else 0
    if len(arguments) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    manifest_path, results_path = arguments
    with open(manifest_path) as file:
        manifest = json.load(file)
    results, metadata = {}, {"torch": torch.__version__}
    for case in manifest["cases"]:
        run_case(case, results, metadata)
    metadata["self_check"] = "\n".join(self_check(manifest["folder"])) or "ok"
    safetensors_io.write(results_path, results, metadata)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
