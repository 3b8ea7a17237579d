#!/usr/bin/env python3
"""Reference vectors for the CLIP text tower, the CLIP BPE tokenizer, the quick-GELU image tower and the LAION
aesthetic head (test/models/clip/clip-text-*.test.ts, test/curation/clip/*.test.ts).

The reference is the public code itself, run here, not a re-implementation:

- ``open_clip`` (mlfoundations/open_clip, tag v3.3.0, ``src/open_clip``): ``model.CLIP`` (``encode_text``,
  ``encode_image``; its ``TextTransformer`` parts, causal mask, argmax (EOT) pooling, ``text_projection``, the
  ``VisionTransformer`` with ``QuickGELU`` or ``nn.GELU``) and ``tokenizer.SimpleTokenizer`` (the OpenAI CLIP BPE
  tokenizer: ftfy + html.unescape ×2 + whitespace clean + lower case, the regex, byte-level BPE, SOT/EOT, context 77).
  torchvision is not needed by these paths and is stubbed.
- ``ftfy`` (rspeer/python-ftfy 6.3.1), which ``SimpleTokenizer`` calls first.

Run with Debian's python3-torch (1.13), python3-regex and python3-wcwidth (generation only; the project never needs
Python), pointing at checkouts of the two repositories:

    git --git-dir=<open_clip>/.git archive v3.3.0 src/open_clip | tar -x -C /tmp/ref
    git --git-dir=<python-ftfy>/.git archive HEAD ftfy | tar -x -C /tmp/ref
    OPEN_CLIP_SRC=/tmp/ref/src FTFY_SRC=/tmp/ref /usr/bin/python3 scripts/make-clip-vectors.py

What it writes (everything seeded: a re-run writes the same bytes):

- ``src/models/clip/text-clean-data.json``: tables the TypeScript text cleaning needs, dumped from Python itself:
  ``html.entities.html5``, ``html``'s invalid character references and code points, ftfy's upper-case entity
  variants, the sloppy-windows-1252 decoding of U+0080–U+009F (ftfy ``fix_c1_controls``), ftfy's width map, and
  the characters Python's ``str.split()`` / ``str.strip()`` treat as whitespace.
- ``test/fixtures/clip/tiny-openclip/``: a tiny CLIP in open_clip's layout (``open_clip_config.json`` with
  ``model_cfg`` + ``preprocess_cfg``, ``open_clip_model.safetensors`` with ``CLIP.state_dict()`` keys) and a tiny
  BPE merges file in open_clip's format (``bpe_simple_vocab_16e6.txt.gz``: a header line, then merges).
- ``test/fixtures/clip/tiny-hf/``: the same weights in transformers' ``CLIPModel`` layout (``config.json``,
  ``model.safetensors``: q/k/v split, projections transposed, ``position_ids`` buffers as old exports have them),
  with ``hidden_act: quick_gelu``, and the same BPE as ``vocab.json`` + ``merges.txt``.
- ``test/fixtures/clip/reference.safetensors``: token ids, ``encode_text`` and ``encode_image`` outputs of the tiny
  model with GELU (what tiny-openclip's config says) and with QuickGELU (what tiny-hf's says), the image input.
- ``test/fixtures/clip/tokenizer-cases.json``: strings and open_clip's ids for them with the tiny merges, and (when
  the real ``bpe_simple_vocab_16e6.txt.gz`` is in OPEN_CLIP_SRC) with the real vocabulary too.
- ``test/fixtures/curation/aesthetic/aesthetic-tiny.pth`` (+ ``.json``): a small ``torch.save`` state dict with the
  layer structure of improved-aesthetic-predictor's ``MLP`` (Linear, Dropout, Linear, Dropout, Linear, Dropout,
  Linear, Linear; smaller widths) and its outputs in eval mode on a few inputs.
"""

import gzip
import html
import html.entities
import importlib
import io
import json
import os
import struct
import sys
import types
import unicodedata
from collections import Counter, OrderedDict

import torch
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OPEN_CLIP_SRC = os.environ.get("OPEN_CLIP_SRC", "/tmp/ref/src")
FTFY_SRC = os.environ.get("FTFY_SRC", "/tmp/ref")
FIX = os.path.join(ROOT, "test", "fixtures", "clip")

sys.path.insert(0, FTFY_SRC)
# open_clip.utils imports torchvision.ops.misc.FrozenBatchNorm2d (ResNet towers only); stub it.
tv = types.ModuleType("torchvision")
tv_ops = types.ModuleType("torchvision.ops")
tv_misc = types.ModuleType("torchvision.ops.misc")
tv_misc.FrozenBatchNorm2d = type("FrozenBatchNorm2d", (nn.Module,), {})
tv.ops = tv_ops
tv_ops.misc = tv_misc
sys.modules.update({"torchvision": tv, "torchvision.ops": tv_ops, "torchvision.ops.misc": tv_misc})
# Import open_clip's modules without its package __init__ (which pulls in factories and downloads).
pkg = types.ModuleType("open_clip")
pkg.__path__ = [os.path.join(OPEN_CLIP_SRC, "open_clip")]
sys.modules["open_clip"] = pkg
oc_model = importlib.import_module("open_clip.model")
oc_tok = importlib.import_module("open_clip.tokenizer")


def write_safetensors(path, tensors, metadata=None):
    """The safetensors format: u64 header length, JSON header (padded with spaces to 8 bytes), raw data."""
    header = {}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        t = t.contiguous()
        dtype = {torch.float32: "F32", torch.int64: "I64"}[t.dtype]
        raw = t.numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def write_json(path, obj, indent=1):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=indent)
        f.write("\n")


# ---------------------------------------------------------------------------------------------------------------
# 1. Text-cleaning tables.


def clean_tables():
    import ftfy.chardata as cd

    py_ws = [chr(c) for c in range(0x110000) if chr(c).isspace()]
    c1 = {}
    for b in range(0x80, 0xA0):
        c1[chr(b)] = bytes([b]).decode("sloppy-windows-1252")
    invalid_charrefs = {str(k): v for k, v in html._invalid_charrefs.items()}  # noqa: SLF001
    invalid_codepoints = sorted(html._invalid_codepoints)  # noqa: SLF001
    upper = {k: v for k, v in cd.HTML_ENTITIES.items() if k[1:-1] not in html.entities.html5 and k[1:] not in html.entities.html5}
    width = {chr(k): v for k, v in cd.WIDTH_MAP.items()}
    return {
        "about": "Generated by scripts/make-clip-vectors.py from Python 3.11's html.entities.html5, html's "
        "invalid character references, ftfy 6.3.1's chardata (upper-case entities, width map) and sloppy-windows-1252, "
        "and str.isspace(); used by src/models/clip/text-clean.ts.",
        "html5": dict(html.entities.html5),
        "invalidCharrefs": invalid_charrefs,
        "invalidCodepoints": invalid_codepoints,
        "ftfyUpperEntities": upper,
        "c1": c1,
        "width": width,
        "pythonWhitespace": "".join(py_ws),
    }


# ---------------------------------------------------------------------------------------------------------------
# 2. A tiny BPE vocabulary (merges learned here on a few sentences, the way CLIP's words are formed).

CORPUS = """a red square on a blue background. a dog runs across the green grass in the park.
the camera pans slowly over a city at night, with cars and lights. two people are talking in a kitchen.
a man is riding a bicycle down the street. waves crash on the rocky shore under a cloudy sky.
a cat sleeps on the sofa next to the window. the sun sets behind the mountains and the lake.
close-up of hands typing on a keyboard. a video of a red car driving fast on the road."""


def train_merges(n):
    bye = oc_tok.bytes_to_unicode()
    words = Counter()
    for tok in oc_tok.re.findall(r"""'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""", CORPUS.lower()):
        w = "".join(bye[b] for b in tok.encode("utf-8"))
        words[tuple(w[:-1]) + (w[-1] + "</w>",)] += 1
    merges = []
    for _ in range(n):
        pairs = Counter()
        for w, c in words.items():
            for a, b in zip(w, w[1:]):
                pairs[(a, b)] += c
        if not pairs:
            break
        best = min(pairs.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        merges.append(best)
        new = Counter()
        for w, c in words.items():
            out = []
            i = 0
            while i < len(w):
                if i < len(w) - 1 and (w[i], w[i + 1]) == best:
                    out.append(w[i] + w[i + 1])
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            new[tuple(out)] += c
        words = new
    return merges


def write_bpe(merges):
    lines = ["tiny-bpe-fixture#version: 0.2"] + [f"{a} {b}" for a, b in merges]
    oc_dir = os.path.join(FIX, "tiny-openclip")
    os.makedirs(oc_dir, exist_ok=True)
    gz = os.path.join(oc_dir, "bpe_simple_vocab_16e6.txt.gz")
    with open(gz, "wb") as raw:  # fixed mtime: the same bytes on every run
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as f:
            f.write("\n".join(lines).encode("utf-8"))  # no trailing newline (it would add an empty merge)
    tok = oc_tok.SimpleTokenizer(bpe_path=gz)
    # transformers' CLIPTokenizer files: the same vocabulary under the OpenAI special-token names.
    hf_vocab = {}
    for t, i in tok.encoder.items():
        hf_vocab[{"<start_of_text>": "<|startoftext|>", "<end_of_text>": "<|endoftext|>"}.get(t, t)] = i
    hf_dir = os.path.join(FIX, "tiny-hf")
    os.makedirs(hf_dir, exist_ok=True)
    with open(os.path.join(hf_dir, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(hf_vocab, f, ensure_ascii=False)
    with open(os.path.join(hf_dir, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "\n".join(f"{a} {b}" for a, b in merges) + "\n")
    return tok


CASES = [
    "a red square on a blue background",
    "A Dog RUNS across the Green grass!",
    "",
    "   ",
    "it's a cat, isn't it? they've said we'll go; I'd, you're, I'm",
    "IT'S LOUD",
    "numbers 1234 and 3.14159 and 2nd",
    "hello   world\t\tnew\nline\r\nwindows",
    "café naïve résumé",
    "cafe\u0301 (decomposed)",
    "curly \u2018single\u2019 and \u201cdouble\u201d quotes, \u02bcmodifier",
    "ligatures: \ufb01ne \ufb02ow o\ufb03ce",
    "fullwidth: \uff2c\uff2f\uff35\uff24\u3000\uff2e\uff2f\uff29\uff33\uff25\uff33 \uff11\uff12\uff13",
    "html: Tom &amp; Jerry &lt;3 &quot;quoted&quot; &#39;apos&#39; &#x263A; caf&eacute; &amp;amp;",
    "a <b>tag</b> &amp; more",
    "&EACUTE;COLE P&EACUTE;REZ &NTILDE;",
    "&ampfoo &notit; &#0; &#128; &#x110000; &#65;",
    "control\x00chars\x07here\x1b[31mred\x1b[0m\u200bzero\ufeffbom",
    "c1 \x93quoted\x94 \x85 next",
    "emoji 😀🎉 and \U0001F1EB\U0001F1F7 flags",
    "中文字符 日本語 한국어 ελληνικά Русский",
    "Σίσυφος ΣΑΣ",
    "tabs\u00a0nbsp\u2003em\u3000ideographic\x1cfs\x85nel\u2028ls",
    "<start_of_text>special<end_of_text> <|endoftext|>",
    "punctuation!!! ... --- ??? \"quoted\" (paren) [brack] {brace} @#$%^&*",
    "under_score snake_case CamelCase dash-case",
    " ".join(["word"] * 90),
    " ".join(f"w{i}" for i in range(40)),
]


def tokenizer_cases(tok):
    real_path = os.path.join(OPEN_CLIP_SRC, "open_clip", "bpe_simple_vocab_16e6.txt.gz")
    real = oc_tok.SimpleTokenizer(bpe_path=real_path) if os.path.exists(real_path) else None
    out = []
    for s in CASES:
        case = {"text": s, "clean": oc_tok._clean_lower(s)}  # noqa: SLF001
        for name, t in (("tiny", tok), ("real", real)):
            if t is None:
                continue
            for ctx in (77, 8):
                ids = t([s], context_length=ctx)[0].tolist()
                while ids and ids[-1] == 0:  # the sequence always ends with EOT (≠ 0): drop the padding
                    ids.pop()
                case[f"{name}{ctx}"] = ids
        out.append(case)
    return {"cases": out, "real": real is not None}


# ---------------------------------------------------------------------------------------------------------------
# 3. A tiny CLIP (open_clip model.CLIP), its outputs, and both checkpoint layouts.

EMBED = 16
VISION = {"image_size": 28, "patch_size": 7, "width": 16, "layers": 2, "head_width": 8, "mlp_ratio": 4.0}
TEXT_W, TEXT_HEADS, TEXT_LAYERS, CTX = 16, 2, 2, 77


def randomise(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(("ln_1.weight", "ln_2.weight", "ln_pre.weight", "ln_post.weight", "ln_final.weight")):
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=g))
            elif name == "logit_scale":
                p.fill_(4.6052)
            else:
                p.copy_(0.3 * torch.randn(p.shape, generator=g))


def tiny_clip(vocab_size, quick_gelu):
    text = {"context_length": CTX, "vocab_size": vocab_size, "width": TEXT_W, "heads": TEXT_HEADS, "layers": TEXT_LAYERS}
    return oc_model.CLIP(EMBED, oc_model.CLIPVisionCfg(**VISION), oc_model.CLIPTextCfg(**text), quick_gelu=quick_gelu).eval()


def to_hf(sd):
    """open_clip CLIP.state_dict() → transformers CLIPModel keys (the convert_clip_original_pytorch_to_hf mapping)."""
    out = OrderedDict()

    def layers(src, dst, n):
        for i in range(n):
            s, d = f"{src}.{i}", f"{dst}.{i}"
            q, k, v = sd[f"{s}.attn.in_proj_weight"].chunk(3)
            qb, kb, vb = sd[f"{s}.attn.in_proj_bias"].chunk(3)
            for nm, w, b in (("q_proj", q, qb), ("k_proj", k, kb), ("v_proj", v, vb)):
                out[f"{d}.self_attn.{nm}.weight"] = w.clone()
                out[f"{d}.self_attn.{nm}.bias"] = b.clone()
            for a, b in (("attn.out_proj", "self_attn.out_proj"), ("ln_1", "layer_norm1"), ("ln_2", "layer_norm2"),
                         ("mlp.c_fc", "mlp.fc1"), ("mlp.c_proj", "mlp.fc2")):
                out[f"{d}.{b}.weight"] = sd[f"{s}.{a}.weight"]
                out[f"{d}.{b}.bias"] = sd[f"{s}.{a}.bias"]

    out["text_model.embeddings.token_embedding.weight"] = sd["token_embedding.weight"]
    out["text_model.embeddings.position_embedding.weight"] = sd["positional_embedding"]
    out["text_model.embeddings.position_ids"] = torch.arange(CTX).unsqueeze(0)
    layers("transformer.resblocks", "text_model.encoder.layers", TEXT_LAYERS)
    out["text_model.final_layer_norm.weight"] = sd["ln_final.weight"]
    out["text_model.final_layer_norm.bias"] = sd["ln_final.bias"]
    out["text_projection.weight"] = sd["text_projection"].t().contiguous()
    out["vision_model.embeddings.class_embedding"] = sd["visual.class_embedding"]
    out["vision_model.embeddings.patch_embedding.weight"] = sd["visual.conv1.weight"]
    out["vision_model.embeddings.position_embedding.weight"] = sd["visual.positional_embedding"]
    n_pos = sd["visual.positional_embedding"].shape[0]
    out["vision_model.embeddings.position_ids"] = torch.arange(n_pos).unsqueeze(0)
    out["vision_model.pre_layrnorm.weight"] = sd["visual.ln_pre.weight"]
    out["vision_model.pre_layrnorm.bias"] = sd["visual.ln_pre.bias"]
    layers("visual.transformer.resblocks", "vision_model.encoder.layers", VISION["layers"])
    out["vision_model.post_layernorm.weight"] = sd["visual.ln_post.weight"]
    out["vision_model.post_layernorm.bias"] = sd["visual.ln_post.bias"]
    out["visual_projection.weight"] = sd["visual.proj"].t().contiguous()
    out["logit_scale"] = sd["logit_scale"]
    return out


TEXTS = [
    "a red square on a blue background",
    "A dog runs across the green grass in the park!",
    "",
    " ".join(["the camera pans slowly over a city at night"] * 12),  # longer than 77 tokens: truncated, EOT last
]


def clip_vectors(tok):
    vocab_size = len(tok.encoder)
    torch.manual_seed(0)
    gelu = tiny_clip(vocab_size, quick_gelu=False)
    randomise(gelu, 1234)
    quick = tiny_clip(vocab_size, quick_gelu=True)
    quick.load_state_dict(gelu.state_dict())
    sd = OrderedDict((k, v.detach().clone()) for k, v in gelu.state_dict().items())

    ids = tok(TEXTS, context_length=CTX)
    pixels = torch.randn((3, 3, VISION["image_size"], VISION["image_size"]), generator=torch.Generator().manual_seed(7))
    ref = {"text.ids": ids, "image.pixels": pixels}
    with torch.no_grad():
        for name, m in (("gelu", gelu), ("quick_gelu", quick)):
            ref[f"{name}.text"] = m.encode_text(ids)
            ref[f"{name}.image"] = m.encode_image(pixels)
            ti = m.encode_text(ids, normalize=True)
            ii = m.encode_image(pixels, normalize=True)
            ref[f"{name}.similarity"] = ii @ ti.t()  # [images, texts] cosine similarities
    write_safetensors(os.path.join(FIX, "reference.safetensors"), ref,
                      {"texts": json.dumps(TEXTS), "source": "open_clip v3.3.0 model.CLIP, torch " + torch.__version__})

    model_cfg = {
        "embed_dim": EMBED,
        "vision_cfg": VISION,
        "text_cfg": {"context_length": CTX, "vocab_size": vocab_size, "width": TEXT_W, "heads": TEXT_HEADS,
                     "layers": TEXT_LAYERS},
    }
    oc_dir = os.path.join(FIX, "tiny-openclip")
    write_json(os.path.join(oc_dir, "open_clip_config.json"), {
        "model_cfg": model_cfg,
        "preprocess_cfg": {"mean": [0.48145466, 0.4578275, 0.40821073], "std": [0.26862954, 0.26130258, 0.27577711],
                           "interpolation": "bicubic", "resize_mode": "shortest"},
    }, indent=2)
    write_safetensors(os.path.join(oc_dir, "open_clip_model.safetensors"), sd)

    hf_dir = os.path.join(FIX, "tiny-hf")
    write_json(os.path.join(hf_dir, "config.json"), {
        "architectures": ["CLIPModel"],
        "model_type": "clip",
        "projection_dim": EMBED,
        "logit_scale_init_value": 2.6592,
        "text_config": {"vocab_size": vocab_size, "hidden_size": TEXT_W, "intermediate_size": TEXT_W * 4,
                        "num_attention_heads": TEXT_HEADS, "num_hidden_layers": TEXT_LAYERS,
                        "max_position_embeddings": CTX, "hidden_act": "quick_gelu", "layer_norm_eps": 1e-05,
                        "bos_token_id": vocab_size - 2, "eos_token_id": 2, "pad_token_id": 1},
        "vision_config": {"hidden_size": VISION["width"], "intermediate_size": VISION["width"] * 4,
                          "num_attention_heads": VISION["width"] // VISION["head_width"],
                          "num_hidden_layers": VISION["layers"], "image_size": VISION["image_size"],
                          "patch_size": VISION["patch_size"], "hidden_act": "quick_gelu", "layer_norm_eps": 1e-05,
                          "num_channels": 3},
    }, indent=2)
    write_json(os.path.join(hf_dir, "preprocessor_config.json"), {
        "crop_size": VISION["image_size"], "do_center_crop": True, "do_normalize": True, "do_resize": True,
        "image_mean": [0.48145466, 0.4578275, 0.40821073], "image_std": [0.26862954, 0.26130258, 0.27577711],
        "resample": 3, "size": VISION["image_size"],
    }, indent=2)
    write_safetensors(os.path.join(hf_dir, "model.safetensors"), to_hf(sd), {"format": "pt"})


# ---------------------------------------------------------------------------------------------------------------
# 4. A small aesthetic head with improved-aesthetic-predictor's layer structure.


class AestheticMLP(nn.Module):
    """improved-aesthetic-predictor's ``MLP.layers`` (there: 768→1024→128→64→16→1), narrower."""

    def __init__(self, sizes):
        super().__init__()
        i, h1, h2, h3, h4 = sizes
        self.layers = nn.Sequential(nn.Linear(i, h1), nn.Dropout(0.2), nn.Linear(h1, h2), nn.Dropout(0.2),
                                    nn.Linear(h2, h3), nn.Dropout(0.1), nn.Linear(h3, h4), nn.Linear(h4, 1))

    def forward(self, x):
        return self.layers(x)


def aesthetic_fixture():
    torch.manual_seed(3)
    m = AestheticMLP((EMBED, 12, 8, 6, 4)).eval()
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(0.5 * torch.randn(p.shape))
    out_dir = os.path.join(ROOT, "test", "fixtures", "curation", "aesthetic")
    os.makedirs(out_dir, exist_ok=True)
    buf = io.BytesIO()
    torch.save(m.state_dict(), buf)
    with open(os.path.join(out_dir, "aesthetic-tiny.pth"), "wb") as f:
        f.write(buf.getvalue())
    x = torch.randn((4, EMBED), generator=torch.Generator().manual_seed(11))
    x = x / x.norm(dim=-1, keepdim=True)
    with torch.no_grad():
        y = m(x)
    write_json(os.path.join(out_dir, "aesthetic-tiny.json"), {
        "about": "scripts/make-clip-vectors.py: AestheticMLP((16, 12, 8, 6, 4)) in eval mode, torch " + torch.__version__,
        "inputs": x.tolist(),
        "outputs": y[:, 0].tolist(),
    })


def main():
    write_json(os.path.join(ROOT, "src", "models", "clip", "text-clean-data.json"), clean_tables(), indent=None)
    merges = train_merges(120)
    tok = write_bpe(merges)
    write_json(os.path.join(FIX, "tokenizer-cases.json"), tokenizer_cases(tok), indent=1)
    clip_vectors(tok)
    aesthetic_fixture()
    print(f"vocab {len(tok.encoder)}, {len(merges)} merges; wrote {FIX}")


if __name__ == "__main__":
    main()
