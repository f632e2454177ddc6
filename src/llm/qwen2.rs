//! A Qwen2 / Qwen2.5 decoder for GGUF files (architecture `qwen2`).
//!
//! candle ships one (`quantized_qwen2`), but its model cannot be copied, so
//! the key/value state after a fixed system prompt could not be kept and
//! reused across questions. This one is built from the same candle parts
//! (quantized matmuls, RMS norm, rotary embedding) with the cache as plain
//! tensors, so a copy taken after the system prompt starts every question
//! from there. A test checks it gives the same next token as candle's model.

use candle_core::quantized::{gguf_file, QMatMul};
use candle_core::{DType, Device, Module, Result, Tensor};
use candle_nn::Embedding;
use candle_transformers::quantized_nn::RmsNorm;

#[derive(Clone)]
struct Block {
    attn_norm: RmsNorm,
    q: QMatMul,
    k: QMatMul,
    v: QMatMul,
    q_bias: Tensor,
    k_bias: Tensor,
    v_bias: Tensor,
    out: QMatMul,
    ffn_norm: RmsNorm,
    gate: QMatMul,
    up: QMatMul,
    down: QMatMul,
    /// Keys and values of every position read so far: (1, kv_heads, len, head_dim).
    cache: Option<(Tensor, Tensor)>,
}

#[derive(Clone)]
pub struct Qwen2 {
    embed: Embedding,
    blocks: Vec<Block>,
    norm: RmsNorm,
    head: QMatMul,
    cos: Tensor,
    sin: Tensor,
    heads: usize,
    kv_heads: usize,
    head_dim: usize,
}

impl Qwen2 {
    pub fn from_gguf<R: std::io::Read + std::io::Seek>(
        ct: &gguf_file::Content,
        r: &mut R,
        dev: &Device,
    ) -> Result<Qwen2> {
        let meta = |k: &str| {
            ct.metadata
                .get(&format!("qwen2.{k}"))
                .ok_or_else(|| candle_core::Error::Msg(format!("the model has no qwen2.{k}")))
        };
        let heads = meta("attention.head_count")?.to_u32()? as usize;
        let kv_heads = meta("attention.head_count_kv")?.to_u32()? as usize;
        let width = meta("embedding_length")?.to_u32()? as usize;
        let context = meta("context_length")?.to_u32()? as usize;
        let layers = meta("block_count")?.to_u32()? as usize;
        let eps = meta("attention.layer_norm_rms_epsilon")?.to_f32()? as f64;
        let base = meta("rope.freq_base")
            .and_then(|v| v.to_f32())
            .unwrap_or(10_000.0);
        let head_dim = width / heads;
        // Positions beyond what a question can need are not precomputed.
        let context = context.min(8192);

        let mut t = |name: &str| ct.tensor(r, name, dev);
        let inv: Vec<f32> = (0..head_dim)
            .step_by(2)
            .map(|i| 1.0 / base.powf(i as f32 / head_dim as f32))
            .collect();
        let inv = Tensor::new(inv.as_slice(), dev)?.reshape((1, head_dim / 2))?;
        let angles = Tensor::arange(0u32, context as u32, dev)?
            .to_dtype(DType::F32)?
            .reshape((context, 1))?
            .matmul(&inv)?;
        let embed_q = t("token_embd.weight")?;
        let embed = Embedding::new(embed_q.dequantize(dev)?, width);
        let head = match t("output.weight") {
            Ok(w) => QMatMul::from_qtensor(w)?,
            // Small Qwen models share the embedding with the output layer.
            Err(_) => QMatMul::from_qtensor(embed_q)?,
        };
        let mut blocks = Vec::with_capacity(layers);
        for i in 0..layers {
            let mut w = |n: &str| t(&format!("blk.{i}.{n}"));
            blocks.push(Block {
                attn_norm: RmsNorm::from_qtensor(w("attn_norm.weight")?, eps)?,
                q: QMatMul::from_qtensor(w("attn_q.weight")?)?,
                k: QMatMul::from_qtensor(w("attn_k.weight")?)?,
                v: QMatMul::from_qtensor(w("attn_v.weight")?)?,
                q_bias: w("attn_q.bias")?.dequantize(dev)?,
                k_bias: w("attn_k.bias")?.dequantize(dev)?,
                v_bias: w("attn_v.bias")?.dequantize(dev)?,
                out: QMatMul::from_qtensor(w("attn_output.weight")?)?,
                ffn_norm: RmsNorm::from_qtensor(w("ffn_norm.weight")?, eps)?,
                gate: QMatMul::from_qtensor(w("ffn_gate.weight")?)?,
                up: QMatMul::from_qtensor(w("ffn_up.weight")?)?,
                down: QMatMul::from_qtensor(w("ffn_down.weight")?)?,
                cache: None,
            });
        }
        Ok(Qwen2 {
            embed,
            blocks,
            norm: RmsNorm::from_qtensor(t("output_norm.weight")?, eps)?,
            head,
            cos: angles.cos()?,
            sin: angles.sin()?,
            heads,
            kv_heads,
            head_dim,
        })
    }

    pub fn clear_cache(&mut self) {
        for b in &mut self.blocks {
            b.cache = None;
        }
    }

    /// Reads `ids` (shape (1, n)) at positions `pos..pos + n` and returns the
    /// logits for the last one, shape (1, vocab).
    pub fn forward(&mut self, ids: &Tensor, pos: usize) -> Result<Tensor> {
        let (_, n) = ids.dims2()?;
        if pos == 0 {
            self.clear_cache();
        }
        let dev = ids.device();
        let cos = self.cos.narrow(0, pos, n)?;
        let sin = self.sin.narrow(0, pos, n)?;
        // Additive causal mask: a position sees itself and everything before it.
        let mask = if n > 1 {
            let total = pos + n;
            let m: Vec<f32> = (0..n)
                .flat_map(|i| {
                    (0..total).map(move |j| if j > pos + i { f32::NEG_INFINITY } else { 0.0 })
                })
                .collect();
            Some(Tensor::from_vec(m, (1, 1, n, total), dev)?)
        } else {
            None
        };
        let (heads, kv_heads, hd) = (self.heads, self.kv_heads, self.head_dim);
        let mut x = self.embed.forward(ids)?;
        for b in &mut self.blocks {
            let h = b.attn_norm.forward(&x)?;
            let split = |t: Tensor, count: usize| -> Result<Tensor> {
                t.reshape((1, n, count, hd))?.transpose(1, 2)?.contiguous()
            };
            let q = split(b.q.forward(&h)?.broadcast_add(&b.q_bias)?, heads)?;
            let k = split(b.k.forward(&h)?.broadcast_add(&b.k_bias)?, kv_heads)?;
            let v = split(b.v.forward(&h)?.broadcast_add(&b.v_bias)?, kv_heads)?;
            let q = candle_nn::rotary_emb::rope(&q, &cos, &sin)?;
            let k = candle_nn::rotary_emb::rope(&k, &cos, &sin)?;
            let (k, v) = match &b.cache {
                Some((ck, cv)) => (Tensor::cat(&[ck, &k], 2)?, Tensor::cat(&[cv, &v], 2)?),
                None => (k, v),
            };
            b.cache = Some((k.clone(), v.clone()));
            let k = candle_transformers::utils::repeat_kv(k, heads / kv_heads)?;
            let v = candle_transformers::utils::repeat_kv(v, heads / kv_heads)?;
            let mut att = (q.matmul(&k.t()?)? / (hd as f64).sqrt())?;
            if let Some(m) = &mask {
                att = att.broadcast_add(m)?;
            }
            let att = candle_nn::ops::softmax_last_dim(&att)?;
            let y = att
                .matmul(&v.contiguous()?)?
                .transpose(1, 2)?
                .reshape((1, n, heads * hd))?;
            x = (b.out.forward(&y)? + x)?;
            let h = b.ffn_norm.forward(&x)?;
            let ff = (candle_nn::ops::silu(&b.gate.forward(&h)?)? * b.up.forward(&h)?)?;
            x = (b.down.forward(&ff)? + x)?;
        }
        let last = x.narrow(1, n - 1, 1)?.squeeze(1)?;
        let last = self.norm.forward(&last)?;
        self.head.forward(&last)?.to_dtype(DType::F32)
    }
}
