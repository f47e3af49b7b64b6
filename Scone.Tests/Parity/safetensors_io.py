"""A minimal safetensors reader and writer on torch alone (Debian's torch 1.13 has no safetensors
package): an 8-byte little-endian header length N, N bytes of JSON naming each tensor's dtype,
shape and data_offsets (and an optional "__metadata__" object of strings), then the raw
little-endian data. F32 and F64 only: all the parity tests exchange."""

import json
import struct
import sys

import torch

METADATA = "__metadata__"
DTYPES = {"F32": torch.float32, "F64": torch.float64}
NAMES = {dtype: name for name, dtype in DTYPES.items()}

if sys.byteorder != "little":
    raise ImportError("safetensors_io reads and writes raw little-endian data and needs a little-endian machine")


def read(path):
    """Returns (tensors, metadata): a dict of name -> tensor (a fresh copy) and a dict of strings."""
    with open(path, "rb") as file:
        blob = file.read()
    if len(blob) < 8:
        raise ValueError(f"{path}: {len(blob)} bytes, too short for a safetensors file")
    (length,) = struct.unpack("<Q", blob[:8])
    if 8 + length > len(blob):
        raise ValueError(f"{path}: header length {length} runs past the end of the file")
    header = json.loads(blob[8:8 + length].decode("utf-8"))
    data = memoryview(blob)[8 + length:]
    metadata = header.pop(METADATA, None) or {}
    tensors = {}
    for name, entry in header.items():
        if entry["dtype"] not in DTYPES:
            raise ValueError(f"{path}: tensor {name} has dtype {entry['dtype']}; this reader takes {', '.join(DTYPES)}")
        begin, end = entry["data_offsets"]
        dtype = DTYPES[entry["dtype"]]
        shape = list(entry["shape"])
        count = end - begin
        if count != torch.Size(shape).numel() * torch.finfo(dtype).bits // 8:
            raise ValueError(f"{path}: tensor {name} of shape {shape} spans {count} bytes")
        flat = torch.frombuffer(bytearray(data[begin:end]), dtype=dtype) if count else torch.empty(0, dtype=dtype)
        tensors[name] = flat.reshape(shape)
    return tensors, metadata


def write(path, tensors, metadata=None):
    """Writes a dict of name -> float32 or float64 tensor, data in the dict's order."""
    header = {}
    if metadata:
        header[METADATA] = {str(key): str(value) for key, value in metadata.items()}
    chunks = []
    offset = 0
    for name, tensor in tensors.items():
        tensor = tensor.detach().contiguous().cpu()
        if tensor.dtype not in NAMES:
            raise ValueError(f"tensor {name} is {tensor.dtype}; this writer takes float32 and float64")
        raw = tensor.reshape(-1).numpy().tobytes()
        header[name] = {"dtype": NAMES[tensor.dtype], "shape": list(tensor.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    # Spaces pad the header to a multiple of 8 so that the data stays aligned, as the format's own writer does.
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as file:
        file.write(struct.pack("<Q", len(text)))
        file.write(text)
        for raw in chunks:
            file.write(raw)
