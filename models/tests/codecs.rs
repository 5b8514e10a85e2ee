//! Numeric building blocks: q8_0 round trip, the GPT-2 byte table, the mel filter bank.
#![allow(clippy::unwrap_used)]

use courtscribe_models::{mel, quant, vocab};

#[test]
fn q8_0_round_trip_error_is_within_half_a_step() {
    let mut x = 0x9e37_79b9_7f4a_7c15_u64;
    let values: Vec<f32> = (0..32 * 1000)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let u = (x >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
            // Vary the scale per block, including an all-zero block.
            if i / 32 == 7 {
                0.0
            } else {
                u * (1 + i / 32 % 13) as f32
            }
        })
        .collect();
    let q = quant::quantize_q8_0(&values);
    assert_eq!(q.len(), values.len() / 32 * 34);
    let back = quant::dequantize_q8_0(&q);
    for (block, (a, b)) in values.chunks(32).zip(back.chunks(32)).enumerate() {
        let amax = a.iter().fold(0f32, |m, v| m.max(v.abs()));
        // d is rounded to f16 (relative error 2^-11), which can stretch the step slightly.
        let step = amax / 127.0;
        for (v, w) in a.iter().zip(b) {
            let tol = step * 0.5 + amax * 2e-3 + 1e-9;
            assert!((v - w).abs() <= tol, "block {block}: {v} vs {w}");
        }
    }
    assert!(back[7 * 32..8 * 32].iter().all(|v| *v == 0.0));
}

#[test]
fn gpt2_byte_table_is_a_bijection() {
    let table = vocab::byte_to_char();
    let back = vocab::char_to_byte();
    assert_eq!(back.len(), 256);
    assert_eq!(table[b' ' as usize], 'Ġ');
    assert_eq!(table[b'\n' as usize], 'Ċ');
    assert_eq!(table[0], 'Ā');
    assert_eq!(table[b'A' as usize], 'A');
    assert_eq!(table[0xAD], 'Ń'); // the soft hyphen is not printable
    assert_eq!(vocab::decode_token("Ã©", &back).unwrap(), "é".as_bytes());
    assert!(vocab::decode_token("日本", &back).is_none());
}

/// Reference values from `librosa.filters.mel(sr=16000, n_fft=400, n_mels=N)` (librosa
/// 0.11, float32), computed once by hand; the test itself needs no Python.
#[test]
fn mel_filters_match_librosa() {
    let close = |a: f32, b: f64| (f64::from(a) - b).abs() <= 1e-6 * b.abs().max(1e-3);
    let m80 = mel::mel_filters(80);
    assert_eq!(m80.len(), 80 * 201);
    let at = |m: &[f32], r: usize, c: usize| m[r * 201 + c];
    let total: f64 = m80.iter().map(|&v| f64::from(v)).sum();
    assert!((total - 1.999_024_092_387_117).abs() < 1e-5, "{total}");
    let row_sum = |m: &[f32], r: usize| {
        m[r * 201..(r + 1) * 201]
            .iter()
            .map(|&v| f64::from(v))
            .sum::<f64>()
    };
    for (r, want) in [
        (0, 0.024_862_594_9),
        (10, 0.024_862_593_0),
        (40, 0.026_664_860_5),
        (79, 0.024_925_339_9),
    ] {
        assert!(
            (row_sum(&m80, r) - want).abs() < 1e-7,
            "row {r}: {}",
            row_sum(&m80, r)
        );
    }
    let argmax = |m: &[f32], r: usize| {
        (0..201).fold(0, |best, c| {
            if at(m, r, c) > at(m, r, best) {
                c
            } else {
                best
            }
        })
    };
    assert_eq!(
        [
            argmax(&m80, 0),
            argmax(&m80, 1),
            argmax(&m80, 10),
            argmax(&m80, 40),
            argmax(&m80, 79)
        ],
        [1, 2, 10, 43, 192]
    );
    for (r, c, want) in [
        (0, 1, 0.024_862_594_902_515_41),
        (5, 6, 0.014_908_484_183_251_858),
        (40, 42, 0.005_411_104_764_789_343),
        (40, 43, 0.014_735_566_452_145_576),
        (40, 44, 0.006_518_189_795_315_266),
        (60, 90, 0.001_434_534_322_470_426_6),
        (79, 186, 0.000_366_741_674_952_209),
        (79, 199, 0.000_448_759_004_939_347_5),
    ] {
        assert!(
            close(at(&m80, r, c), want),
            "[{r},{c}] = {} vs {want}",
            at(&m80, r, c)
        );
    }
    assert_eq!(at(&m80, 40, 41), 0.0);
    assert_eq!(at(&m80, 79, 200), 0.0);

    // large-v3's 128 bands.
    let m128 = mel::mel_filters(128);
    let total: f64 = m128.iter().map(|&v| f64::from(v)).sum();
    assert!((total - 3.190_985_540_940_346_3).abs() < 1e-5, "{total}");
    assert_eq!(
        [
            argmax(&m128, 0),
            argmax(&m128, 1),
            argmax(&m128, 10),
            argmax(&m128, 40),
            argmax(&m128, 127)
        ],
        [1, 1, 6, 24, 195]
    );
    for (r, c, want) in [
        (0, 1, 0.012_373_986_653_983_593),
        (100, 100, 0.002_578_350_948_169_827_5),
        (100, 102, 0.009_409_416_466_951_37),
        (100, 104, 0.001_214_475_953_020_155_4),
        (127, 199, 0.001_114_280_195_906_758_3),
    ] {
        assert!(
            close(at(&m128, r, c), want),
            "[{r},{c}] = {} vs {want}",
            at(&m128, r, c)
        );
    }
}
