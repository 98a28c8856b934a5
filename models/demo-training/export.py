"""Convert between the training model (restricted vocabulary rows) and the HF GPT-2 directory."""
import json
import os

import numpy as np
import torch

import safetensors_io
from model import GPT2, Config, VOCAB_SIZE

UNSEEN_ROW_NOISE = 1e-3  # never-seen ids: the shared learned row plus this much noise, so they stay distinct


def hf_state_dict(model, vocab_ids, seed=0):
    """HF GPT2Model key names (no "transformer." prefix), Conv1D [in, out] layouts, f32 numpy."""
    cfg = model.cfg
    wte = np.random.default_rng(seed).normal(0.0, UNSEEN_ROW_NOISE, (VOCAB_SIZE, cfg.n_embd)).astype(np.float32)
    wte += model.wte_unseen.detach().numpy()
    wte[np.asarray(vocab_ids)] = model.wte.detach().numpy()
    sd = {"wte.weight": wte, "wpe.weight": model.wpe.detach().numpy(),
          "ln_f.weight": model.ln_f.weight.detach().numpy(), "ln_f.bias": model.ln_f.bias.detach().numpy()}
    for i, b in enumerate(model.h):
        p = f"h.{i}."
        pairs = {"ln_1": b.ln_1, "attn.c_attn": b.c_attn, "attn.c_proj": b.attn_c_proj, "ln_2": b.ln_2,
                 "mlp.c_fc": b.c_fc, "mlp.c_proj": b.mlp_c_proj}
        for name, mod in pairs.items():
            sd[p + name + ".weight"] = mod.weight.detach().numpy()
            sd[p + name + ".bias"] = mod.bias.detach().numpy()
    return sd


def save_hf_dir(model, vocab_ids, out_dir, metadata=None):
    os.makedirs(out_dir, exist_ok=True)
    sd = {k: v.astype(np.float16) for k, v in hf_state_dict(model, vocab_ids).items()}
    assert all(np.isfinite(v).all() for v in sd.values()), "f16 overflow"
    safetensors_io.save(os.path.join(out_dir, "model.safetensors"), sd, {"format": "pt", **(metadata or {})})
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(model.cfg.hf_config(), f, indent=2)
        f.write("\n")


def load_hf_dir(model_dir):
    """Load the exported f16 model into a full-vocabulary GPT2 in f32 (wte has all 50257 rows)."""
    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = Config.from_hf(json.load(f))
    sd, _ = safetensors_io.load(os.path.join(model_dir, "model.safetensors"))
    t = {k: torch.from_numpy(v.astype(np.float32)) for k, v in sd.items()}
    model = GPT2(cfg, VOCAB_SIZE)
    with torch.no_grad():
        model.wte.copy_(t["wte.weight"])
        model.wpe.copy_(t["wpe.weight"])
        model.ln_f.weight.copy_(t["ln_f.weight"])
        model.ln_f.bias.copy_(t["ln_f.bias"])
        for i, b in enumerate(model.h):
            p = f"h.{i}."
            pairs = {"ln_1": b.ln_1, "attn.c_attn": b.c_attn, "attn.c_proj": b.attn_c_proj, "ln_2": b.ln_2,
                     "mlp.c_fc": b.c_fc, "mlp.c_proj": b.mlp_c_proj}
            for name, mod in pairs.items():
                mod.weight.copy_(t[p + name + ".weight"])
                mod.bias.copy_(t[p + name + ".bias"])
    return model.eval()
