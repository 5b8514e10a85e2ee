//! Developer check of the Rust CAM++ against a PyTorch reference: reads raw little-endian f32
//! features `[T, 80]` from the file given, prints the 192 embedding values (not normalised), one
//! per line; with a second argument `fbank`, reads raw 16 kHz samples and prints fbank rows. Usage: `cargo run --release -p courtscribe-diarization --example campplus_check -- feats.f32`

use courtscribe_diarization::{campplus::CamPlusPlus, home_dir, install};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: campplus_check FEATS.f32")?;
    let bytes = std::fs::read(path)?;
    let v: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    if std::env::args().nth(2).as_deref() == Some("fbank") {
        // Raw 16 kHz samples in: print the (un-normalised) fbank rows.
        for row in courtscribe_diarization::fbank::Fbank::new().compute(&v) {
            println!(
                "{}",
                row.iter()
                    .map(|x| x.to_string())
                    .collect::<Vec<_>>()
                    .join(" ")
            );
        }
        return Ok(());
    }
    let t = v.len() / 80;
    let model = CamPlusPlus::load(&install::model_path(&home_dir()?))?;
    let x = candle_core::Tensor::from_vec(v, (1, t, 80), &candle_core::Device::Cpu)?;
    let e = model.embed_batch(&x)?.squeeze(0)?.to_vec1::<f32>()?;
    for x in e {
        println!("{x}");
    }
    Ok(())
}
