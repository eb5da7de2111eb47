import gzip
import hashlib
import struct
from pathlib import Path

import numpy as np
import pytest

from training import data as fdata
from training.data import IdxError, parse_idx, read_idx

REPO = Path(__file__).resolve().parents[2]
PUBLIC = REPO / "public" / "data" / "fashion-mnist"


def images_bytes(count=3, rows=4, cols=5):
    return struct.pack(">IIII", 2051, count, rows, cols) + bytes(range(count * rows * cols))


def labels_bytes(labels=(1, 2, 9)):
    return struct.pack(">II", 2049, len(labels)) + bytes(labels)


def test_parse_images_and_labels():
    x = parse_idx(images_bytes())
    assert x.shape == (3, 4, 5) and x.dtype == np.uint8 and x[0, 0, 1] == 1
    y = parse_idx(labels_bytes())
    assert y.tolist() == [1, 2, 9]


def test_gzip_and_raw_files(tmp_path):
    (tmp_path / "a.gz").write_bytes(gzip.compress(images_bytes()))
    (tmp_path / "b.idx").write_bytes(labels_bytes())
    assert read_idx(tmp_path / "a.gz", "images").shape == (3, 4, 5)
    assert read_idx(tmp_path / "b.idx", "labels").tolist() == [1, 2, 9]


@pytest.mark.parametrize(
    "payload, message",
    [
        (images_bytes()[:-1], "truncated"),
        (images_bytes() + b"\0", "trailing bytes"),
        (images_bytes()[:12], "truncated IDX image header"),
        (b"\0\0", "too short"),
        (labels_bytes()[:-2], "truncated"),
        (struct.pack(">II", 2050, 0), "bad magic number 2050"),
        (labels_bytes((1, 12)), "out of range"),
    ],
)
def test_corrupt_payloads_name_the_file(tmp_path, payload, message):
    f = tmp_path / "broken-file.idx"
    f.write_bytes(payload)
    with pytest.raises(IdxError) as err:
        read_idx(f)
    assert str(f) in str(err.value) and message in str(err.value)


def test_truncated_gzip_names_the_file(tmp_path):
    f = tmp_path / "t10k-images-idx3-ubyte.gz"
    f.write_bytes(gzip.compress(images_bytes())[:-10])
    with pytest.raises(IdxError, match="t10k-images-idx3-ubyte.gz: corrupt or truncated gzip"):
        read_idx(f)


def test_wrong_kind_and_missing_file(tmp_path):
    f = tmp_path / "labels.idx"
    f.write_bytes(labels_bytes())
    with pytest.raises(IdxError, match="labels.idx: expected an IDX image file"):
        read_idx(f, "images")
    with pytest.raises(IdxError, match="nope.gz: file not found"):
        read_idx(tmp_path / "nope.gz")


def test_find_data_dir_names_missing_files(tmp_path):
    with pytest.raises(IdxError, match="missing train-images-idx3-ubyte.gz"):
        fdata.find_data_dir(str(tmp_path), allow_download=False)


def test_shipped_test_files_are_the_official_ones():
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        digest = hashlib.md5((PUBLIC / name).read_bytes()).hexdigest()
        assert digest == fdata.MD5[name], name
    x = read_idx(PUBLIC / "t10k-images-idx3-ubyte.gz", "images")
    y = read_idx(PUBLIC / "t10k-labels-idx1-ubyte.gz", "labels")
    assert x.shape == (10000, 28, 28) and y.shape == (10000,)
    assert np.bincount(y).tolist() == [1000] * 10
    assert "Zalando SE" in (PUBLIC / "LICENSE").read_text()
