//! Turns a CTranslate2 Whisper model (the format the Whisper packages carry:
//! `model.bin` and `vocabulary.txt`) into whisper.cpp's ggml `.bin`, which
//! whisper-rs loads.
//!
//! CTranslate2 `model.bin` (binary version 6): a header, then named tensors
//! (rank, dims, dtype, bytes) and aliases. whisper.cpp's file: a header of
//! hyperparameters, the 80-bin mel filterbank, the vocabulary as raw bytes,
//! then tensors with reversed dims. The fused attention weights are split
//! (Q‖K‖V in self-attention, K‖V in cross-attention; keys have no bias),
//! 1-D tensors, conv biases and positional embeddings are written as f32 and
//! the rest as f16, as whisper.cpp's own converters do.

use std::collections::HashMap;
use std::io::{BufWriter, Read, Write};
use std::path::Path;

use anyhow::{bail, Context, Result};
use half::f16;

/// One CTranslate2 variable.
struct Var {
    dims: Vec<usize>,
    dtype: u8,
    data: Vec<u8>,
}

const F32: u8 = 0;
const I8: u8 = 1;
const I16: u8 = 2;
const F16: u8 = 4;
const BF16: u8 = 5;

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8]> {
        let end = self.at.checked_add(n).filter(|e| *e <= self.b.len());
        let Some(end) = end else {
            bail!("the model file ends early (at byte {})", self.at)
        };
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_le_bytes(self.take(2)?.try_into()?))
    }
    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into()?))
    }
    fn string(&mut self) -> Result<String> {
        let n = self.u16()? as usize;
        let s = self.take(n)?;
        let s = s.strip_suffix(&[0]).unwrap_or(s);
        Ok(String::from_utf8_lossy(s).into_owned())
    }
}

/// Reads a CTranslate2 model: its variables, aliases resolved.
fn read_ct2(bytes: &[u8]) -> Result<HashMap<String, Var>> {
    let mut r = Reader { b: bytes, at: 0 };
    let version = r.u32()?;
    if version != 6 {
        bail!("CTranslate2 binary version {version} is not supported (expected 6)");
    }
    let spec = r.string()?;
    if spec != "WhisperSpec" {
        bail!("this is a {spec} model, not a Whisper model");
    }
    let _revision = r.u32()?;
    let n = r.u32()? as usize;
    let mut vars = HashMap::with_capacity(n);
    for _ in 0..n {
        let name = r.string()?;
        let rank = r.u8()? as usize;
        let mut dims = Vec::with_capacity(rank);
        for _ in 0..rank {
            dims.push(r.u32()? as usize);
        }
        let dtype = r.u8()?;
        let len = r.u32()? as usize;
        let data = r.take(len)?.to_vec();
        vars.insert(name, Var { dims, dtype, data });
    }
    let aliases = r.u32()? as usize;
    for _ in 0..aliases {
        let alias = r.string()?;
        let target = r.string()?;
        if let Some(v) = vars.get(&target) {
            let copy = Var {
                dims: v.dims.clone(),
                dtype: v.dtype,
                data: v.data.clone(),
            };
            vars.insert(alias, copy);
        }
    }
    Ok(vars)
}

/// A variable's values as f32 (int8 weights are scaled back by their
/// per-row `<name>_scale`).
fn values(vars: &HashMap<String, Var>, name: &str) -> Result<(Vec<usize>, Vec<f32>)> {
    let v = vars
        .get(name)
        .with_context(|| format!("the model has no tensor {name}"))?;
    let out: Vec<f32> = match v.dtype {
        F32 => v
            .data
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        F16 => v
            .data
            .chunks_exact(2)
            .map(|c| f16::from_le_bytes([c[0], c[1]]).to_f32())
            .collect(),
        BF16 => v
            .data
            .chunks_exact(2)
            .map(|c| half::bf16::from_le_bytes([c[0], c[1]]).to_f32())
            .collect(),
        I8 => {
            let (_, scale) = values(vars, &format!("{name}_scale"))?;
            let rows = v.dims.first().copied().unwrap_or(1).max(1);
            let per_row = v.data.len() / rows;
            v.data
                .iter()
                .enumerate()
                .map(|(i, q)| (*q as i8) as f32 / scale.get(i / per_row).copied().unwrap_or(1.0))
                .collect()
        }
        I16 => v
            .data
            .chunks_exact(2)
            .map(|c| i16::from_le_bytes([c[0], c[1]]) as f32)
            .collect(),
        other => bail!("tensor {name} has an unsupported type ({other})"),
    };
    Ok((v.dims.clone(), out))
}

/// A variable's shape, without reading its values.
fn dims(vars: &HashMap<String, Var>, name: &str) -> Result<Vec<usize>> {
    vars.get(name)
        .map(|v| v.dims.clone())
        .with_context(|| format!("the model has no tensor {name}"))
}

fn scalar(vars: &HashMap<String, Var>, name: &str) -> Option<usize> {
    values(vars, name)
        .ok()
        .and_then(|(_, v)| v.first().copied())
        .map(|x| x as usize)
}

/// The 80-bin (or 128-bin) mel filterbank Whisper uses: Slaney mel scale
/// and area normalisation, for 16 kHz audio and a 400-point FFT, as
/// `librosa.filters.mel(sr=16000, n_fft=400, n_mels=80)`.
pub fn mel_filters(n_mels: usize) -> Vec<f32> {
    const SR: f64 = 16_000.0;
    const N_FFT: usize = 400;
    let n_freqs = N_FFT / 2 + 1;
    let hz_to_mel = |f: f64| {
        let (f_sp, min_log_hz) = (200.0 / 3.0, 1000.0);
        let min_log_mel = min_log_hz / f_sp;
        let logstep = (6.4f64).ln() / 27.0;
        if f >= min_log_hz {
            min_log_mel + (f / min_log_hz).ln() / logstep
        } else {
            f / f_sp
        }
    };
    let mel_to_hz = |m: f64| {
        let (f_sp, min_log_hz) = (200.0 / 3.0, 1000.0);
        let min_log_mel = min_log_hz / f_sp;
        let logstep = (6.4f64).ln() / 27.0;
        if m >= min_log_mel {
            min_log_hz * (logstep * (m - min_log_mel)).exp()
        } else {
            f_sp * m
        }
    };
    let fft_freqs: Vec<f64> = (0..n_freqs).map(|k| k as f64 * SR / N_FFT as f64).collect();
    let (lo, hi) = (hz_to_mel(0.0), hz_to_mel(SR / 2.0));
    let points: Vec<f64> = (0..n_mels + 2)
        .map(|i| mel_to_hz(lo + (hi - lo) * i as f64 / (n_mels + 1) as f64))
        .collect();
    let mut out = vec![0f32; n_mels * n_freqs];
    for m in 0..n_mels {
        let (f0, f1, f2) = (points[m], points[m + 1], points[m + 2]);
        let norm = 2.0 / (f2 - f0);
        for (k, f) in fft_freqs.iter().enumerate() {
            let lower = (f - f0) / (f1 - f0);
            let upper = (f2 - f) / (f2 - f1);
            out[m * n_freqs + k] = (lower.min(upper).max(0.0) * norm) as f32;
        }
    }
    out
}

/// GPT-2's byte-level alphabet, reversed: the character that stands for
/// each byte in the vocabulary's tokens.
fn byte_decoder() -> HashMap<char, u8> {
    let mut bytes: Vec<u32> = (b'!' as u32..=b'~' as u32)
        .chain(0xA1..=0xAC)
        .chain(0xAE..=0xFF)
        .collect();
    let mut chars = bytes.clone();
    let mut n = 0;
    for b in 0..256u32 {
        if !bytes.contains(&b) {
            bytes.push(b);
            chars.push(256 + n);
            n += 1;
        }
    }
    bytes
        .into_iter()
        .zip(chars)
        .filter_map(|(b, c)| char::from_u32(c).map(|c| (c, b as u8)))
        .collect()
}

/// The ordinary tokens (up to `<|endoftext|>`) as raw bytes.
fn vocabulary(dir: &Path) -> Result<Vec<Vec<u8>>> {
    let tokens: Vec<String> = if dir.join("vocabulary.json").exists() {
        let text = std::fs::read_to_string(dir.join("vocabulary.json"))?;
        serde_json::from_str(&text).context("vocabulary.json is not a JSON list")?
    } else {
        let path = dir.join("vocabulary.txt");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        text.lines().map(str::to_string).collect()
    };
    let decoder = byte_decoder();
    let mut out = Vec::new();
    for t in tokens {
        if t == "<|endoftext|>" {
            return Ok(out);
        }
        out.push(
            t.chars()
                .map(|c| decoder.get(&c).copied().unwrap_or(b'?'))
                .collect(),
        );
    }
    bail!("the vocabulary has no <|endoftext|> token")
}

/// How a tensor is stored in the ggml file.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    F32,
    F16,
}

struct Writer<W: Write> {
    w: W,
    tensors: usize,
}

impl<W: Write> Writer<W> {
    fn i32(&mut self, v: i32) -> Result<()> {
        self.w.write_all(&v.to_le_bytes())?;
        Ok(())
    }

    /// Writes a tensor of numpy shape `dims` under `name`.
    fn tensor(&mut self, name: &str, dims: &[usize], data: &[f32], kind: Kind) -> Result<()> {
        let expected: usize = dims.iter().product();
        if expected != data.len() {
            bail!("tensor {name}: {} values for shape {dims:?}", data.len());
        }
        self.i32(dims.len() as i32)?;
        self.i32(name.len() as i32)?;
        self.i32(if kind == Kind::F32 { 0 } else { 1 })?;
        for d in dims.iter().rev() {
            self.i32(*d as i32)?;
        }
        self.w.write_all(name.as_bytes())?;
        match kind {
            Kind::F32 => {
                for x in data {
                    self.w.write_all(&x.to_le_bytes())?;
                }
            }
            Kind::F16 => {
                for x in data {
                    self.w.write_all(&f16::from_f32(*x).to_le_bytes())?;
                }
            }
        }
        self.tensors += 1;
        Ok(())
    }
}

/// Rows `[from, to)` of a row-major matrix with `cols` columns.
fn rows(data: &[f32], cols: usize, from: usize, to: usize) -> Result<&[f32]> {
    part(data, from * cols, to * cols)
}

/// Values `[from, to)`, or an error if the tensor is smaller than its shape says.
fn part(data: &[f32], from: usize, to: usize) -> Result<&[f32]> {
    data.get(from..to)
        .with_context(|| format!("a fused tensor has {} values, fewer than {to}", data.len()))
}

/// What a conversion produced.
#[derive(Debug)]
pub struct Converted {
    pub tensors: usize,
    pub n_vocab: usize,
    pub d_model: usize,
    pub encoder_layers: usize,
    pub decoder_layers: usize,
    pub bytes: u64,
}

/// Bump when the converter's output changes, so files made by older code
/// are made again (it is part of the derived file's name).
pub const VERSION: u32 = 2;

/// Converts the CTranslate2 model in `dir` into a ggml file at `out`,
/// written whole or not at all (see [`crate::derived::write_atomic`]).
pub fn convert(dir: &Path, out: &Path) -> Result<Converted> {
    crate::derived::write_atomic(out, |w| convert_into(dir, w))?;
    check(out)
}

/// Converts the CTranslate2 model in `dir` into ggml bytes written to `out`.
pub fn convert_into(dir: &Path, out: &mut impl Write) -> Result<()> {
    let model_path = dir.join("model.bin");
    let mut bytes = Vec::new();
    std::fs::File::open(&model_path)
        .with_context(|| format!("cannot open {}", model_path.display()))?
        .read_to_end(&mut bytes)?;
    let vars = read_ct2(&bytes).with_context(|| {
        format!(
            "{} is not a CTranslate2 Whisper model",
            model_path.display()
        )
    })?;
    drop(bytes);
    let emb_dims = dims(&vars, "decoder/embeddings/weight")?;
    let enc_pos_dims = dims(&vars, "encoder/position_encodings/encodings")?;
    let dec_pos_dims = dims(&vars, "decoder/position_encodings/encodings")?;
    let conv1_dims = dims(&vars, "encoder/conv1/weight")?;
    if emb_dims.len() != 2
        || enc_pos_dims.len() != 2
        || dec_pos_dims.len() != 2
        || conv1_dims.len() != 3
    {
        bail!("the model's tensors do not have Whisper's shapes");
    }
    let n_vocab = emb_dims[0];
    let d = emb_dims[1];
    let n_audio_ctx = enc_pos_dims[0];
    let n_text_ctx = dec_pos_dims[0];
    let n_mels = conv1_dims[1];
    let layers = |prefix: &str| {
        (0..)
            .take_while(|i| {
                vars.keys()
                    .any(|k| k.starts_with(&format!("{prefix}/layer_{i}/")))
            })
            .count()
    };
    let (enc_layers, dec_layers) = (layers("encoder"), layers("decoder"));
    if enc_layers == 0 || dec_layers == 0 {
        bail!("the model has no encoder or decoder layers");
    }
    let enc_heads = scalar(&vars, "encoder/num_heads").unwrap_or(d / 64);
    let dec_heads = scalar(&vars, "decoder/num_heads").unwrap_or(d / 64);
    let vocab = vocabulary(dir)?;

    let mut w = Writer {
        w: BufWriter::new(out),
        tensors: 0,
    };
    w.w.write_all(&0x6767_6d6cu32.to_le_bytes())?;
    for v in [
        n_vocab,
        n_audio_ctx,
        d,
        enc_heads,
        enc_layers,
        n_text_ctx,
        d,
        dec_heads,
        dec_layers,
        n_mels,
        1, // f16
    ] {
        w.i32(v as i32)?;
    }
    let filters = mel_filters(n_mels);
    w.i32(n_mels as i32)?;
    w.i32(201)?;
    for x in &filters {
        w.w.write_all(&x.to_le_bytes())?;
    }
    w.i32(vocab.len() as i32)?;
    for t in &vocab {
        w.i32(t.len() as i32)?;
        w.w.write_all(t)?;
    }

    let get = |name: &str| values(&vars, name);
    // Encoder front end.
    let (dims, v) = get("encoder/position_encodings/encodings")?;
    w.tensor("encoder.positional_embedding", &dims, &v, Kind::F32)?;
    for c in ["conv1", "conv2"] {
        let (dims, v) = get(&format!("encoder/{c}/weight"))?;
        w.tensor(&format!("encoder.{c}.weight"), &dims, &v, Kind::F16)?;
        let (dims, v) = get(&format!("encoder/{c}/bias"))?;
        w.tensor(&format!("encoder.{c}.bias"), &[dims[0], 1], &v, Kind::F32)?;
    }
    let norm = |w: &mut Writer<_>, from: &str, to: &str| -> Result<()> {
        let (dims, v) = get(&format!("{from}/gamma"))?;
        w.tensor(&format!("{to}.weight"), &dims, &v, Kind::F32)?;
        let (dims, v) = get(&format!("{from}/beta"))?;
        w.tensor(&format!("{to}.bias"), &dims, &v, Kind::F32)
    };
    let linear = |w: &mut Writer<_>, from: &str, to: &str| -> Result<()> {
        let (dims, v) = get(&format!("{from}/weight"))?;
        w.tensor(&format!("{to}.weight"), &dims, &v, Kind::F16)?;
        let (dims, v) = get(&format!("{from}/bias"))?;
        w.tensor(&format!("{to}.bias"), &dims, &v, Kind::F32)
    };
    // Self-attention: Q‖K‖V fused in linear_0; the key has no bias.
    let self_attention = |w: &mut Writer<_>, from: &str, to: &str| -> Result<()> {
        norm(w, &format!("{from}/layer_norm"), &format!("{to}.attn_ln"))?;
        let (_, qkv) = get(&format!("{from}/linear_0/weight"))?;
        let (_, bias) = get(&format!("{from}/linear_0/bias"))?;
        w.tensor(
            &format!("{to}.attn.query.weight"),
            &[d, d],
            rows(&qkv, d, 0, d)?,
            Kind::F16,
        )?;
        w.tensor(
            &format!("{to}.attn.query.bias"),
            &[d],
            part(&bias, 0, d)?,
            Kind::F32,
        )?;
        w.tensor(
            &format!("{to}.attn.key.weight"),
            &[d, d],
            rows(&qkv, d, d, 2 * d)?,
            Kind::F16,
        )?;
        w.tensor(
            &format!("{to}.attn.value.weight"),
            &[d, d],
            rows(&qkv, d, 2 * d, 3 * d)?,
            Kind::F16,
        )?;
        w.tensor(
            &format!("{to}.attn.value.bias"),
            &[d],
            part(&bias, 2 * d, 3 * d)?,
            Kind::F32,
        )?;
        linear(w, &format!("{from}/linear_1"), &format!("{to}.attn.out"))
    };
    let ffn = |w: &mut Writer<_>, from: &str, to: &str| -> Result<()> {
        norm(w, &format!("{from}/layer_norm"), &format!("{to}.mlp_ln"))?;
        linear(w, &format!("{from}/linear_0"), &format!("{to}.mlp.0"))?;
        linear(w, &format!("{from}/linear_1"), &format!("{to}.mlp.2"))
    };
    for i in 0..enc_layers {
        let (from, to) = (format!("encoder/layer_{i}"), format!("encoder.blocks.{i}"));
        self_attention(&mut w, &format!("{from}/self_attention"), &to)?;
        ffn(&mut w, &format!("{from}/ffn"), &to)?;
    }
    norm(&mut w, "encoder/layer_norm", "encoder.ln_post")?;
    // Decoder.
    let (dims, v) = get("decoder/position_encodings/encodings")?;
    w.tensor("decoder.positional_embedding", &dims, &v, Kind::F32)?;
    let (dims, v) = get("decoder/embeddings/weight")?;
    w.tensor("decoder.token_embedding.weight", &dims, &v, Kind::F16)?;
    for i in 0..dec_layers {
        let (from, to) = (format!("decoder/layer_{i}"), format!("decoder.blocks.{i}"));
        self_attention(&mut w, &format!("{from}/self_attention"), &to)?;
        // Cross-attention: Q in linear_0, K‖V fused in linear_1.
        let ca = format!("{from}/attention");
        norm(
            &mut w,
            &format!("{ca}/layer_norm"),
            &format!("{to}.cross_attn_ln"),
        )?;
        linear(
            &mut w,
            &format!("{ca}/linear_0"),
            &format!("{to}.cross_attn.query"),
        )?;
        let (_, kv) = get(&format!("{ca}/linear_1/weight"))?;
        let (_, kv_bias) = get(&format!("{ca}/linear_1/bias"))?;
        w.tensor(
            &format!("{to}.cross_attn.key.weight"),
            &[d, d],
            rows(&kv, d, 0, d)?,
            Kind::F16,
        )?;
        w.tensor(
            &format!("{to}.cross_attn.value.weight"),
            &[d, d],
            rows(&kv, d, d, 2 * d)?,
            Kind::F16,
        )?;
        w.tensor(
            &format!("{to}.cross_attn.value.bias"),
            &[d],
            part(&kv_bias, d, 2 * d)?,
            Kind::F32,
        )?;
        linear(
            &mut w,
            &format!("{ca}/linear_2"),
            &format!("{to}.cross_attn.out"),
        )?;
        ffn(&mut w, &format!("{from}/ffn"), &to)?;
    }
    norm(&mut w, "decoder/layer_norm", "decoder.ln")?;
    w.w.flush()?;
    Ok(())
}

/// Tensors whisper.cpp expects: per encoder layer 15 (layer norms, Q, K, V,
/// output, two MLP layers), per decoder layer 24 (the same plus
/// cross-attention), and 11 others (two position tables, two convolutions
/// with biases, the token embedding, two final norms).
fn expected_tensors(encoder_layers: usize, decoder_layers: usize) -> usize {
    11 + 15 * encoder_layers + 24 * decoder_layers
}

/// Reads a ggml Whisper file through to its end and checks its structure:
/// the magic number, the hyperparameters, the mel filters and vocabulary,
/// every tensor's header and data, and the number of tensors for its layers.
/// Used before a converted file is trusted.
pub fn check(path: &Path) -> Result<Converted> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut r = Reader { b: &bytes, at: 0 };
    let i32_ = |r: &mut Reader| -> Result<i32> {
        let b = r.take(4)?;
        Ok(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    if i32_(&mut r)? as u32 != 0x6767_6d6c {
        bail!("not a ggml Whisper file");
    }
    let mut h = [0usize; 11];
    for v in h.iter_mut() {
        *v = usize::try_from(i32_(&mut r)?).context("a negative hyperparameter")?;
    }
    let [n_vocab, _, d_model, _, encoder_layers, _, _, _, decoder_layers, n_mels, _] = h;
    let (mels, fft) = (i32_(&mut r)?, i32_(&mut r)?);
    if mels as usize != n_mels || fft <= 0 {
        bail!("the mel filters do not match the header");
    }
    r.take(mels as usize * fft as usize * 4)?;
    let words = i32_(&mut r)?;
    for _ in 0..words {
        let n = usize::try_from(i32_(&mut r)?).context("a negative word length")?;
        r.take(n)?;
    }
    let mut tensors = 0;
    while r.at < bytes.len() {
        let rank = i32_(&mut r)?;
        let name_len = i32_(&mut r)?;
        let kind = i32_(&mut r)?;
        if !(1..=4).contains(&rank) || !(1..=256).contains(&name_len) || !(0..=1).contains(&kind) {
            bail!("tensor {tensors} has a bad header (cut short or overwritten?)");
        }
        let mut elems = 1usize;
        for _ in 0..rank {
            elems = elems
                .saturating_mul(usize::try_from(i32_(&mut r)?).context("a negative dimension")?);
        }
        r.take(name_len as usize)?;
        r.take(elems.saturating_mul(if kind == 0 { 4 } else { 2 }))
            .with_context(|| format!("tensor {tensors} is cut short"))?;
        tensors += 1;
    }
    let want = expected_tensors(encoder_layers, decoder_layers);
    if tensors != want {
        bail!("{tensors} tensors where {want} were expected for {encoder_layers}+{decoder_layers} layers");
    }
    Ok(Converted {
        tensors,
        n_vocab,
        d_model,
        encoder_layers,
        decoder_layers,
        bytes: bytes.len() as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mel_filters_match_whisper_shape_and_normalisation() {
        let f = mel_filters(80);
        assert_eq!(f.len(), 80 * 201);
        // Every filter has some weight, none is negative, and the first
        // filter peaks low (its centre is about 33 Hz, bin 0 or 1).
        for m in 0..80 {
            let row = &f[m * 201..(m + 1) * 201];
            assert!(row.iter().all(|x| *x >= 0.0));
            assert!(row.iter().sum::<f32>() > 0.0, "filter {m} is empty");
        }
        // librosa's first filter: weight 0.02486 at bin 1 (25 Hz... 40 Hz).
        assert!((f[1] - 0.024_86).abs() < 2e-4, "{}", f[1]);
    }

    #[test]
    fn byte_level_tokens_decode_to_raw_bytes() {
        let d = byte_decoder();
        assert_eq!(d.len(), 256);
        assert_eq!(d[&'Ġ'], b' ');
        assert_eq!(d[&'Ċ'], b'\n');
        assert_eq!(d[&'a'], b'a');
    }

    #[test]
    fn bad_files_are_errors_not_panics() {
        assert!(read_ct2(b"").is_err());
        assert!(read_ct2(&[7, 0, 0, 0]).is_err());
        let mut b = 6u32.to_le_bytes().to_vec();
        b.extend_from_slice(&4u16.to_le_bytes());
        b.extend_from_slice(b"Foo\0");
        assert!(read_ct2(&b).is_err());
    }
}
