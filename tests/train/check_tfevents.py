"""Reads the file tests/train/write_tfevents.cpp writes with TensorBoard's own reader (PyPI
tensorboard, EventAccumulator: it checks both CRCs of every record) and compares every scalar.
A copy with one payload byte flipped must be refused by the reader (its CRC check).

    PYTHON check_tfevents.py WRITE_TFEVENTS      # exit 77 (skip) when tensorboard is missing
Run by meson with /opt/tb-venv/bin/python (scripts/fixtures/tensorboard_env.sh makes it)."""
import os
import shutil
import subprocess
import sys
import tempfile

try:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.compat.tensorflow_stub import pywrap_tensorflow
except ImportError:
    print("tensorboard is not installed here (bash scripts/fixtures/tensorboard_env.sh): skipped")
    sys.exit(77)


def f32(x):
    import struct
    return struct.unpack("<f", struct.pack("<f", x))[0]


def main():
    tmp = tempfile.mkdtemp()
    try:
        path = subprocess.run([sys.argv[1], tmp], check=True, capture_output=True, text=True).stdout.strip()
        acc = EventAccumulator(tmp)
        acc.Reload()
        tags = sorted(acc.Tags()["scalars"])
        assert tags == ["train/loss", "train/lr", "val/bbox_mAP"], tags
        for tag, steps, fn in (("train/loss", range(20), lambda s: 2.0 / (1 + s)),
                               ("train/lr", range(20), lambda s: 0.02 * 0.9 ** s),
                               ("val/bbox_mAP", range(4, 20, 5), lambda s: 0.01 * s)):
            events = acc.Scalars(tag)
            assert [e.step for e in events] == [s * 50 for s in steps], (tag, [e.step for e in events])
            for e, s in zip(events, steps):
                assert e.value == f32(fn(s)), (tag, s, e.value, fn(s))
                assert e.wall_time == 1.7e9 + s, (tag, s, e.wall_time)

        # A flipped byte inside the last record's payload: the CRC check must catch it.
        data = bytearray(open(path, "rb").read())
        data[-8] ^= 0x40
        reader_path = os.path.join(tmp, "corrupt.tfevents")
        open(reader_path, "wb").write(bytes(data))
        reader = pywrap_tensorflow.PyRecordReader_New(reader_path, 0, "", None)
        records, refused = 0, False
        while True:
            try:
                reader.GetNext()
                records += 1
            except Exception as e:  # DataLossError on the bad CRC, OutOfRangeError at the end
                refused = "DataLoss" in type(e).__name__ or "crc" in str(e).lower()
                break
        assert refused and records == 1 + 20 + 20 + 4 - 1, (refused, records)
        print(f"check_tfevents: {tags} read by tensorboard {__import__('tensorboard').__version__}; "
              "a corrupted record is refused")
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
