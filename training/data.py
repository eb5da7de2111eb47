"""Fashion-MNIST loading: IDX parsing with checks, and the data-source order

1. a folder the user names (--data);
2. /usr/share/datasets/fashion-mnist (Debian package dataset-fashion-mnist);
3. a download from the dataset's official URLs (never in tests).
"""
from __future__ import annotations

import gzip
import os
import struct
import urllib.request
from pathlib import Path

import numpy as np

FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
MD5 = {
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}
URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")
CACHE_DIR = Path(__file__).resolve().parent / ".data"
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049


class IdxError(ValueError):
    pass


def parse_idx(data: bytes, name: str = "<bytes>", expect: str | None = None) -> np.ndarray:
    """Parse decompressed IDX bytes (ubyte images, magic 2051, or labels, magic 2049)."""
    if len(data) < 8:
        raise IdxError(f"{name}: too short for an IDX header ({len(data)} bytes)")
    magic, count = struct.unpack(">II", data[:8])
    if magic == IMAGES_MAGIC:
        if expect == "labels":
            raise IdxError(f"{name}: expected an IDX label file (magic {LABELS_MAGIC}), got images (magic {magic})")
        if len(data) < 16:
            raise IdxError(f"{name}: truncated IDX image header ({len(data)} bytes, need 16)")
        rows, cols = struct.unpack(">II", data[8:16])
        if rows == 0 or cols == 0:
            raise IdxError(f"{name}: invalid image size {rows}x{cols}")
        need = 16 + count * rows * cols
        if len(data) != need:
            kind = "truncated" if len(data) < need else "has trailing bytes"
            raise IdxError(f"{name}: {kind}: header says {count} images of {rows}x{cols} ({need} bytes), file has {len(data)} bytes")
        return np.frombuffer(data, dtype=np.uint8, offset=16).reshape(count, rows, cols)
    if magic == LABELS_MAGIC:
        if expect == "images":
            raise IdxError(f"{name}: expected an IDX image file (magic {IMAGES_MAGIC}), got labels (magic {magic})")
        need = 8 + count
        if len(data) != need:
            kind = "truncated" if len(data) < need else "has trailing bytes"
            raise IdxError(f"{name}: {kind}: header says {count} labels ({need} bytes), file has {len(data)} bytes")
        labels = np.frombuffer(data, dtype=np.uint8, offset=8)
        if labels.size and labels.max() > 9:
            raise IdxError(f"{name}: label {int(labels.max())} out of range 0..9")
        return labels
    raise IdxError(f"{name}: bad magic number {magic} (expected {IMAGES_MAGIC} for images or {LABELS_MAGIC} for labels)")


def read_idx(path: str | os.PathLike, expect: str | None = None) -> np.ndarray:
    path = Path(path)
    if not path.is_file():
        raise IdxError(f"{path}: file not found")
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, gzip.BadGzipFile) as e:  # truncated or corrupt gzip
            raise IdxError(f"{path}: corrupt or truncated gzip data ({e})") from e
    return parse_idx(raw, str(path), expect)


def _has_all(folder: Path, keys) -> bool:
    return all((folder / FILES[k]).is_file() for k in keys)


def find_data_dir(data: str | None = None, allow_download: bool = True, keys=tuple(FILES)) -> Path:
    if data is not None:
        folder = Path(data)
        if not _has_all(folder, keys):
            missing = [FILES[k] for k in keys if not (folder / FILES[k]).is_file()]
            raise IdxError(f"{folder}: missing {', '.join(missing)}")
        return folder
    if _has_all(SYSTEM_DIR, keys):
        return SYSTEM_DIR
    if _has_all(CACHE_DIR, keys):
        return CACHE_DIR
    if not allow_download:
        raise IdxError(f"Fashion-MNIST not found in {SYSTEM_DIR} or {CACHE_DIR}; pass --data DIR")
    download(CACHE_DIR, keys)
    return CACHE_DIR


def download(folder: Path, keys=tuple(FILES)) -> None:
    import hashlib

    folder.mkdir(parents=True, exist_ok=True)
    for k in keys:
        name = FILES[k]
        target = folder / name
        if target.is_file():
            continue
        print(f"downloading {URL + name}", flush=True)
        tmp = target.with_suffix(".part")
        urllib.request.urlretrieve(URL + name, tmp)
        digest = hashlib.md5(tmp.read_bytes()).hexdigest()
        if digest != MD5[name]:
            tmp.unlink()
            raise IdxError(f"{name}: md5 {digest} does not match the official {MD5[name]}")
        tmp.rename(target)


def load(data: str | None = None, allow_download: bool = True):
    """Returns (x_train uint8 [60000,28,28], y_train, x_test, y_test, folder)."""
    folder = find_data_dir(data, allow_download)
    xtr = read_idx(folder / FILES["train_images"], "images")
    ytr = read_idx(folder / FILES["train_labels"], "labels")
    xte = read_idx(folder / FILES["test_images"], "images")
    yte = read_idx(folder / FILES["test_labels"], "labels")
    for xs, ys, what in ((xtr, ytr, "train"), (xte, yte, "test")):
        if len(xs) != len(ys):
            raise IdxError(f"{folder}: {what} images ({len(xs)}) and labels ({len(ys)}) differ in count")
    return xtr, ytr, xte, yte, folder
