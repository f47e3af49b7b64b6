"""The paper's models in PyTorch, written from ../shared/spec/SCONE.md and BASELINES.md, as the
reference Scone's engine is tested against. Every state_dict name is the authors' tensor name, so
a Scone checkpoint loads with load_state_dict(strict=True). Initialisation is left out on purpose:
the parity tests load Scone's initial parameters.

`hidden_layers` counts the hidden representations before the output layer in every model:
SCONE's collage layers, SIREN's sine layers, FFN's ReLU layers, MFN's filters (its n_layers + 1)
and WIRE's Gabor layers.

Trained tensors are parameters; fixed ones (FFN's encoding, WIRE's omega_0 and scale_0, RBM's
masks) are buffers, so they are stored in the state_dict and never get a gradient. WIRE's
complex tensors are real parameters with a trailing dimension of 2 (real, imaginary), as the
checkpoint stores them (torch.view_as_real), and are viewed as complex in the forward pass;
`complex_tensors` names them so that counts take a complex value once.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

# SCONE.md §1, "Mask activations": sigma(t), each in [0, 1].
MASKS = {
    "sin2": lambda t: torch.sin(t) ** 2,
    "sigmoid": torch.sigmoid,
    "gauss": lambda t: torch.exp(-t * t),
    "nsin": lambda t: (torch.sin(t) + 1) / 2,
    "ncos": lambda t: (torch.cos(t) + 1) / 2,
    "ntanh": lambda t: (torch.tanh(t) + 1) / 2,
}

LEARNABLE_SUFFIX = "-l"


def parse_mask(name):
    """'sigmoid' -> (sigmoid, False); 'sigmoid-l' -> (sigmoid, True): the -L variant of BASELINES.md §5."""
    name = name.lower()
    learnable = name.endswith(LEARNABLE_SUFFIX)
    base = name[: -len(LEARNABLE_SUFFIX)] if learnable else name
    if base not in MASKS:
        known = ", ".join(list(MASKS) + [m + LEARNABLE_SUFFIX for m in MASKS])
        raise ValueError(f"unknown mask '{name}'; known: {known}")
    return MASKS[base], learnable


class Dense(nn.Module):
    """A linear layer one level down (`prefix.linear.weight`), as the authors' SCONE and SIREN name theirs."""

    def __init__(self, inputs, outputs):
        super().__init__()
        self.linear = nn.Linear(inputs, outputs)

    def forward(self, z):
        return self.linear(z)


class SineLayer(nn.Module):
    """z = sin(omega (A z_prev + a)): a SIREN layer (`net.{l}`, omega = w0) and a SCONE Fourier basis
    (`rffs.{l}`, omega = omega_l, always of the raw input x)."""

    def __init__(self, inputs, width, omega):
        super().__init__()
        self.linear = nn.Linear(inputs, width)
        self.omega = omega

    def forward(self, z):
        return torch.sin(self.omega * self.linear(z))


class CollageMask(nn.Module):
    """z = sigma(k w0 (A z_prev + a)) * g (`net.{l}`); k is the -L variant's trained scalar `scale`, else 1."""

    def __init__(self, inputs, width, w0, mask):
        super().__init__()
        self.linear = nn.Linear(inputs, width)
        self.w0 = w0
        self.sigma, learnable = parse_mask(mask)
        self.scale = nn.Parameter(torch.ones(1)) if learnable else None

    def forward(self, z, basis):
        t = self.w0 * self.linear(z)
        if self.scale is not None:
            t = self.scale * t
        return self.sigma(t) * basis


class RandomBinaryMask(nn.Module):
    """z = M (A z_prev + a) * g with M a fixed 0/1 tensor [width, H, W] (`net.{l}.binary_mask`):
    the RBM ablation, defined on a pixel grid, so a batch is every pixel in row-major order."""

    def __init__(self, inputs, width, grid):
        super().__init__()
        self.linear = nn.Linear(inputs, width)
        self.register_buffer("binary_mask", torch.zeros(width, *grid))

    def forward(self, z, basis):
        width, height, columns = self.binary_mask.shape
        if z.shape[0] != height * columns:
            raise ValueError(f"a random binary mask on a {height} x {columns} grid needs all {height * columns} pixels, not {z.shape[0]} rows")
        mask = self.binary_mask.reshape(width, height * columns).t()
        return mask * self.linear(z) * basis


class Scone(nn.Module):
    """SCONE.md §1; with `grid`, the random binary mask ablation (BASELINES.md §4)."""

    def __init__(self, dims, outputs, width, hidden_layers, w0, omegas, mask="sin2", grid=None):
        super().__init__()
        if len(omegas) != hidden_layers:
            raise ValueError(f"{len(omegas)} omegas for {hidden_layers} hidden layers")
        inputs = [dims] + [width] * (hidden_layers - 1)
        if grid is None:
            self.net = nn.ModuleList(CollageMask(n, width, w0, mask) for n in inputs)
        else:
            self.net = nn.ModuleList(RandomBinaryMask(n, width, grid) for n in inputs)
        self.rffs = nn.ModuleList(SineLayer(dims, width, omega) for omega in omegas)
        self.last_layer = Dense(width, outputs)

    def forward(self, x):
        z = x
        for mask, basis in zip(self.net, self.rffs):
            z = mask(z, basis(x))
        return self.last_layer(z)


class Siren(nn.Module):
    """SCONE.md §5: sine layers, then a linear output (`last_layer.linear`)."""

    def __init__(self, dims, outputs, width, hidden_layers, w0):
        super().__init__()
        inputs = [dims] + [width] * (hidden_layers - 1)
        self.net = nn.ModuleList(SineLayer(n, width, w0) for n in inputs)
        self.last_layer = Dense(width, outputs)

    def forward(self, x):
        for layer in self.net:
            x = layer(x)
        return self.last_layer(x)


class GaussianEncoding(nn.Module):
    """h_0 = [cos(2 pi x B^T), sin(2 pi x B^T)], B [frequencies, dims] fixed (`encoding.b`)."""

    def __init__(self, dims, frequencies):
        super().__init__()
        self.register_buffer("b", torch.zeros(frequencies, dims))

    def forward(self, x):
        e = 2 * math.pi * (x @ self.b.t())
        return torch.cat([torch.cos(e), torch.sin(e)], dim=-1)


class Ffn(nn.Module):
    """BASELINES.md §1: Gaussian random Fourier features, ReLU layers (`net.{0,2,4,...}`), `last_layer`."""

    def __init__(self, dims, outputs, width, hidden_layers, frequencies=128):
        super().__init__()
        self.encoding = GaussianEncoding(dims, frequencies)
        layers = []
        for i in range(hidden_layers):
            layers += [nn.Linear(2 * frequencies if i == 0 else width, width), nn.ReLU()]
        self.net = nn.Sequential(*layers)
        self.last_layer = nn.Linear(width, outputs)

    def forward(self, x):
        return self.last_layer(self.net(self.encoding(x)))


class GaborFilter(nn.Module):
    """f(x) = sin(F x + c) * exp(-gamma ||x - mu||^2 / 2), with ||x - mu||^2 = |x|^2 + |mu|^2 - 2 x.mu (BASELINES.md §2)."""

    def __init__(self, dims, width):
        super().__init__()
        self.linear = nn.Linear(dims, width)
        self.mu = nn.Parameter(torch.zeros(width, dims))
        self.gamma = nn.Parameter(torch.zeros(width))

    def forward(self, x):
        distance = (x * x).sum(-1, keepdim=True) + (self.mu * self.mu).sum(-1)[None, :] - 2 * (x @ self.mu.t())
        return torch.sin(self.linear(x)) * torch.exp(-0.5 * self.gamma[None, :] * distance)


class FourierFilter(nn.Module):
    """f(x) = sin(F x + c): FourierNet's filter."""

    def __init__(self, dims, width):
        super().__init__()
        self.linear = nn.Linear(dims, width)

    def forward(self, x):
        return torch.sin(self.linear(x))


class MultiplicativeFilterNetwork(nn.Module):
    """h_0 = f_0(x); h_i = f_i(x) * (L_i h_{i-1} + l_i); y = O h_last + o."""

    def __init__(self, dims, outputs, width, filters, kind):
        super().__init__()
        filter_type = {"gabor": GaborFilter, "fourier": FourierFilter}[kind]
        self.filters = nn.ModuleList(filter_type(dims, width) for _ in range(filters))
        self.linear = nn.ModuleList(nn.Linear(width, width) for _ in range(filters - 1))
        self.output_linear = nn.Linear(width, outputs)

    def forward(self, x):
        h = self.filters[0](x)
        for f, linear in zip(self.filters[1:], self.linear):
            h = f(x) * linear(h)
        return self.output_linear(h)


class Mfn(nn.Module):
    """BASELINES.md §2, under `net` as the authors' wrapper holds it; filter 'gabor' (GaborNet) or 'fourier'."""

    def __init__(self, dims, outputs, width, hidden_layers, filter="gabor"):
        super().__init__()
        self.net = MultiplicativeFilterNetwork(dims, outputs, width, hidden_layers, filter)

    def forward(self, x):
        return self.net(x)


class ComplexLinear(nn.Module):
    """t = W z + b with complex W [out, in] and b [out], held as real [out, in, 2] and [out, 2] (real, imaginary)."""

    complex_tensors = ("weight", "bias")

    def __init__(self, inputs, outputs):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(outputs, inputs, 2))
        self.bias = nn.Parameter(torch.zeros(outputs, 2))

    def forward(self, z):
        return F.linear(z, torch.view_as_complex(self.weight), torch.view_as_complex(self.bias))


class GaborWavelet(nn.Module):
    """z = exp(i omega_0 t - |s_0 t|^2), t = linear(z_prev), real in the first layer and complex after
    (`net.{k}`); omega_0 and scale_0 are stored, one value each, never trained."""

    def __init__(self, inputs, width, first, omega_0, scale_0):
        super().__init__()
        self.linear = nn.Linear(inputs, width) if first else ComplexLinear(inputs, width)
        self.register_buffer("omega_0", torch.full((1,), float(omega_0)))
        self.register_buffer("scale_0", torch.full((1,), float(scale_0)))

    def forward(self, z):
        t = self.linear(z)
        return torch.exp(1j * self.omega_0 * t - (self.scale_0 * t).abs().square())


class Wire(nn.Module):
    """BASELINES.md §3: Gabor layers `net.0` (real weights) .. `net.{hidden_layers-1}` (complex), the complex
    output `net.{hidden_layers}`, and its real part out."""

    def __init__(self, dims, outputs, width, hidden_layers, omega_0=20.0, scale_0=20.0):
        super().__init__()
        layers = [GaborWavelet(dims if k == 0 else width, width, k == 0, omega_0, scale_0) for k in range(hidden_layers)]
        self.net = nn.ModuleList(layers + [ComplexLinear(width, outputs)])

    def forward(self, x):
        for layer in self.net:
            x = layer(x)
        return x.real


def build(description):
    """A model from a parity case's description (a dict the C# side writes; see ParityModels.cs)."""
    d = description
    model = d["model"]
    common = (d["dims"], d["outputs"], d["width"], d["hidden_layers"])
    if model == "scone":
        return Scone(*common, d["w0"], d["omegas"], d.get("mask", "sin2"))
    if model == "rbm":
        return Scone(*common, d.get("w0", 30), d["omegas"], grid=tuple(d["grid"]))  # w0 is unused: the masks are fixed
    if model == "siren":
        return Siren(*common, d["w0"])
    if model == "ffn":
        return Ffn(*common, d.get("frequencies", 128))
    if model == "mfn":
        return Mfn(*common, d.get("filter", "gabor"))
    if model == "wire":
        return Wire(*common)
    raise ValueError(f"unknown model '{model}'; known: scone, rbm, siren, ffn, mfn, wire")


def complex_names(module):
    """The state_dict names of tensors that hold complex values as (real, imaginary) pairs."""
    return {f"{prefix}.{name}" if prefix else name
            for prefix, child in module.named_modules()
            for name in getattr(child, "complex_tensors", ())}


def trained_count(module):
    """Trained values as the paper's tables count them: a complex value once."""
    paired = complex_names(module)
    return sum(p.numel() // (2 if name in paired else 1) for name, p in module.named_parameters() if p.requires_grad)


def fixed_count(module):
    return sum(b.numel() for b in module.buffers())
