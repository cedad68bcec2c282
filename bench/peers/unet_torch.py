#!/usr/bin/env python3
"""PyTorch peer of the sfd-lab benchmark: the project's UNet (lib/models/unet.ts) layer for layer, so the
same work can be timed in the framework a user would otherwise pick. Not a dependency of the library.

  unet_torch.py check DIR        load DIR/model.json (+ weights.bin, an sfd-unet model saved by the project),
                                 DIR/input.bin and DIR/output.bin (float32 NHWC, c_noise in DIR/meta.json),
                                 print the largest difference of the network output as JSON
  unet_torch.py bench SPEC.json  time the workloads of SPEC (train step, inference, SFD iteration) and
                                 print one JSON line per workload
"""
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

SIGMA_DATA = 0.5


def load_weights(model_json):
    """Named float32 arrays of an sfd-lab weights file (tfjs weights manifest + one binary)."""
    with open(model_json) as f:
        card = json.load(f)
    group = card["weightsManifest"][0]
    raw = np.fromfile(os.path.join(os.path.dirname(model_json), os.path.basename(group["paths"][0])), dtype=np.float32)
    out, off = {}, 0
    for spec in group["weights"]:
        n = int(np.prod(spec["shape"])) if spec["shape"] else 1
        out[spec["name"]] = raw[off:off + n].reshape(spec["shape"])
        off += n
    return card["config"], out


class UNet(torch.nn.Module):
    """The project's UNet in NCHW; weights named as in the project (conv [kh,kw,ci,co] → [co,ci,kh,kw])."""

    def __init__(self, cfg, weights=None, seed=0):
        super().__init__()
        self.cfg = cfg
        self.params = torch.nn.ParameterDict()
        self.names = []
        gen = torch.Generator().manual_seed(seed)
        shapes = unet_shapes(cfg)
        for name, shape in shapes:
            if weights is not None:
                a = torch.from_numpy(np.array(weights[name], dtype=np.float32))
            else:
                a = torch.randn(shape, generator=gen) * 0.05
            if name.endswith(".w") and a.dim() == 4:
                a = a.permute(3, 2, 0, 1)  # [kh,kw,ci,co] → [co,ci,kh,kw]
            elif name.endswith(".w") and a.dim() == 2:
                a = a.t()  # [ci,co] → [co,ci]
            elif name == "in.pos":
                a = a.permute(2, 0, 1)  # [h,w,c] → [c,h,w]
            self.params[name.replace(".", "__")] = torch.nn.Parameter(a.contiguous())
            self.names.append(name)

    def W(self, name):
        return self.params[name.replace(".", "__")]

    def conv(self, name, x, stride=1):
        w = self.W(name + ".w")
        k = w.shape[-1]
        if stride == 1:
            return F.conv2d(x, w, self.W(name + ".b"), padding=k // 2)
        # tfjs 'same' with stride 2 on even sizes pads one row/column at the bottom/right only
        return F.conv2d(F.pad(x, (0, 1, 0, 1)), w, self.W(name + ".b"), stride=stride)

    def linear(self, name, x):
        return F.linear(x, self.W(name + ".w"), self.W(name + ".b"))

    def norm(self, name, x, act=True):
        y = F.group_norm(x, self.cfg["groups"], self.W(name + ".g"), self.W(name + ".b"), eps=1e-5)
        return F.silu(y) if act else y

    def sinusoid(self, c):
        half = self.cfg["embedDim"] // 2
        freqs = (1 / 10000) ** (torch.arange(half, dtype=torch.float32, device=c.device) / half)
        a = c.reshape(-1, 1) * freqs.reshape(1, -1)
        return torch.cat([torch.cos(a), torch.sin(a)], 1)

    def block(self, name, x, e):
        h = self.conv(name + ".c0", self.norm(name + ".n0", x))
        h = h + self.linear(name + ".emb", e)[:, :, None, None]
        h = self.conv(name + ".c1", self.norm(name + ".n1", h))
        skip = self.conv(name + ".skip", x) if (name + ".skip.w") in self.names else x
        return (h + skip) * math.sqrt(0.5)

    def attention(self, x):
        b, c, hh, ww = x.shape
        t = self.norm("mid.attn.n", x, act=False).permute(0, 2, 3, 1).reshape(b * hh * ww, c)
        q, k, v = self.linear("mid.attn.qkv", t).reshape(b, hh * ww, 3 * c).split(c, dim=2)
        att = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(c), dim=-1)
        o = self.linear("mid.attn.out", (att @ v).reshape(b * hh * ww, c))
        return (x + o.reshape(b, hh, ww, c).permute(0, 3, 1, 2)) * math.sqrt(0.5)

    def forward(self, x, c_noise):
        cfg = self.cfg
        levels = len(cfg["channels"])
        c = torch.full((x.shape[0],), float(c_noise), device=x.device) if not torch.is_tensor(c_noise) else c_noise
        e = F.silu(self.linear("map.1", F.silu(self.linear("map.0", self.sinusoid(c)))))
        h = self.conv("in", x)
        if cfg.get("positional"):
            h = h + self.W("in.pos")
        stack = [h]
        for l in range(levels):
            for i in range(cfg["blocksPerLevel"]):
                h = self.block(f"down{l}.{i}", h, e)
                stack.append(h)
            if l < levels - 1:
                h = self.conv(f"down{l}.pool", h, 2)
                stack.append(h)
        h = self.block("mid.0", h, e)
        if cfg["attention"]:
            h = self.attention(h)
        h = self.block("mid.1", h, e)
        for l in reversed(range(levels)):
            for i in range(cfg["blocksPerLevel"] + 1):
                h = self.block(f"up{l}.{i}", torch.cat([h, stack.pop()], 1), e)
            if l > 0:
                h = self.conv(f"up{l}.up", F.interpolate(h, scale_factor=2, mode="nearest"))
        return self.conv("out", self.norm("out.n", h))


def unet_shapes(cfg):
    """(name, project shape) of every weight, in the project's order (createUNet)."""
    ch, emb, out = cfg["channels"], 4 * cfg["channels"][0], []
    conv = lambda n, k, ci, co: out.extend([(n + ".w", [k, k, ci, co]), (n + ".b", [co])])
    dense = lambda n, ci, co: out.extend([(n + ".w", [ci, co]), (n + ".b", [co])])
    norm = lambda n, c: out.extend([(n + ".g", [c]), (n + ".b", [c])])

    def res(n, ci, co):
        norm(n + ".n0", ci); conv(n + ".c0", 3, ci, co); dense(n + ".emb", emb, co)
        norm(n + ".n1", co); conv(n + ".c1", 3, co, co)
        if ci != co:
            conv(n + ".skip", 1, ci, co)

    dense("map.0", cfg["embedDim"], emb); dense("map.1", emb, emb)
    conv("in", 3, cfg["inChannels"], ch[0])
    if cfg.get("positional"):
        out.append(("in.pos", [cfg["resolution"], cfg["resolution"], ch[0]]))
    skips, c = [ch[0]], ch[0]
    for l, co in enumerate(ch):
        for i in range(cfg["blocksPerLevel"]):
            res(f"down{l}.{i}", c, co); c = co; skips.append(c)
        if l < len(ch) - 1:
            conv(f"down{l}.pool", 3, c, c); skips.append(c)
    res("mid.0", c, c)
    if cfg["attention"]:
        norm("mid.attn.n", c); dense("mid.attn.qkv", c, 3 * c); dense("mid.attn.out", c, c)
    res("mid.1", c, c)
    for l in reversed(range(len(ch))):
        co = ch[l]
        for i in range(cfg["blocksPerLevel"] + 1):
            res(f"up{l}.{i}", c + skips.pop(), co); c = co
        if l > 0:
            conv(f"up{l}.up", 3, c, c)
    norm("out.n", c); conv("out", 3, c, cfg["inChannels"])
    return out


def denoiser(net):
    def D(x, t):
        s2 = t * t + SIGMA_DATA ** 2
        c_skip, c_out, c_in = SIGMA_DATA ** 2 / s2, t * SIGMA_DATA / math.sqrt(s2), 1 / math.sqrt(s2)
        return c_skip * x + c_out * net(c_in * x, math.log(t) / 4)
    return D


def poly_grid(n, t_min=0.006, t_max=80.0, rho=7.0):
    a, b = t_max ** (1 / rho), t_min ** (1 / rho)
    return [t_max if i == 0 else t_min if i == n - 1 else (a + i / (n - 1) * (b - a)) ** rho for i in range(n)]


def threshold(x0):
    s = torch.quantile(x0.abs().reshape(x0.shape[0], -1), 0.995, dim=1).clamp(min=1).reshape(-1, 1, 1, 1)
    return torch.maximum(torch.minimum(x0, s), -s) / s


def dpmpp3m(D, x, ts, keep):
    """Multistep DPM-Solver++(3M), data prediction, lower-order final steps, thresholding (official teacher)."""
    hist, states, n = [], [], len(ts)
    for i in range(n - 1):
        t, tn = ts[i], ts[i + 1]
        hist.insert(0, (threshold(D(x, t)), t))
        hist = hist[:3]
        order = min(3, i + 1) if i + 1 < 3 else min(3, n - (i + 1))
        h = math.log(t) - math.log(tn)
        phi1 = math.expm1(-h)
        m0 = hist[0][0]
        xn = (tn / t) * x - phi1 * m0
        if order >= 2:
            r0 = (math.log(hist[1][1]) - math.log(t)) / h
            d1_0 = (m0 - hist[1][0]) / r0
            if order == 2:
                xn = xn - 0.5 * phi1 * d1_0
            else:
                r1 = (math.log(hist[2][1]) - math.log(hist[1][1])) / h
                d1_1 = (hist[1][0] - hist[2][0]) / r1
                d1 = d1_0 + r0 / (r0 + r1) * (d1_0 - d1_1)
                d2 = (d1_0 - d1_1) / (r0 + r1)
                phi2 = phi1 / h + 1
                phi3 = phi2 / h - 0.5
                xn = (tn / t) * x - phi1 * m0 + phi2 * d1 - phi3 * d2
        x = xn
        if i + 1 in keep:
            states.append(x)
    return states


def timed(f, reps, sync=lambda: None):
    f(); sync()  # warm-up (cuDNN's algorithm choice, allocations)
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter(); f(); sync(); ts.append(time.perf_counter() - t0)
    return sorted(ts)[len(ts) // 2]


def bench(spec):
    """spec: workloads, reps, and either threads (CPU) or device "cuda" (timings synchronise the GPU)."""
    dev = torch.device(spec.get("device", "cpu"))
    if dev.type == "cuda" and not torch.cuda.is_available():
        sys.exit("unet_torch.py: CUDA asked for, but torch sees no GPU")
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    if dev.type == "cpu":
        torch.set_num_threads(spec.get("threads", 2))
    torch.manual_seed(0)
    rows = []
    reps = spec.get("reps", 3)
    for w in spec["workloads"]:
      for layout in spec.get("layouts", ["nchw"]):
        # channels_last (NHWC) is often PyTorch's faster layout on CPU: the caller keeps the faster
        fmt = torch.channels_last if layout == "channels_last" else torch.contiguous_format
        cl = lambda t: t.contiguous(memory_format=fmt)
        cfg = w["unet"]
        torch.manual_seed(0)
        net = UNet(cfg).to(dev).to(memory_format=fmt)
        params = sum(p.numel() for p in net.parameters())
        D = denoiser(net)
        r, c, b = cfg["resolution"], cfg["inChannels"], w["batch"]
        opt = torch.optim.Adam(net.parameters(), lr=1e-5, betas=(0.9, 0.999), eps=1e-8)
        if w["kind"] == "train":
            x0 = cl(torch.randn(b, c, r, r, device=dev) * 0.5)
            noisy = cl(x0 + 1.2 * torch.randn_like(x0))
            def step():
                opt.zero_grad(); ((D(noisy, 1.2) - x0) ** 2).mean().backward(); opt.step()
            ms = timed(step, reps, sync) * 1000
        elif w["kind"] == "inference":
            x = cl(torch.randn(b, c, r, r, device=dev))
            def infer():
                with torch.no_grad():
                    D(x, 1.2)
            ms = timed(infer, reps, sync) * 1000
        else:  # the SFD iteration at NFE 2 with AFS, K = 4 (as lib/sfd/iteration.ts)
            ts_s = poly_grid(4)
            ts_t = poly_grid(13)
            def sfd():
                z = cl(torch.randn(b, c, r, r, device=dev) * 80)
                with torch.no_grad():
                    targets = dpmpp3m(D, z, ts_t, keep={4, 8, 12})
                x = z + (ts_s[1] - ts_s[0]) * z / math.sqrt(1 + ts_s[0] ** 2)  # AFS: no call, no update
                for j in (1, 2):
                    opt.zero_grad()
                    t, tn = ts_s[j], ts_s[j + 1]
                    out = x + (tn - t) * (x - D(x, t)) / t
                    ((out - targets[j]).abs().sum() / b).backward()
                    opt.step()
                    x = out.detach()
            ms = timed(sfd, reps, sync) * 1000
        row = {"peer": "pytorch", "torch": torch.__version__, "threads": torch.get_num_threads(),
               "workload": w["name"], "batch": b, "params": params, "msPerStep": ms, "device": dev.type,
               "layout": layout}
        if dev.type == "cuda":  # PyTorch's defaults: TF32 in cuDNN convolutions, not in matmuls
            row.update(gpu=torch.cuda.get_device_name(dev), cudnnTf32=torch.backends.cudnn.allow_tf32,
                       matmulTf32=torch.backends.cuda.matmul.allow_tf32)
        rows.append(row)
        print(json.dumps(rows[-1]), flush=True)


def check(d):
    cfg, weights = load_weights(os.path.join(d, "model.json"))
    with open(os.path.join(d, "meta.json")) as f:
        meta = json.load(f)
    net = UNet(cfg, weights)
    used = set(net.names)
    unused = [k for k in weights if k not in used]
    shape = meta["shape"]  # NHWC
    x = torch.from_numpy(np.fromfile(os.path.join(d, "input.bin"), dtype=np.float32).reshape(shape)).permute(0, 3, 1, 2)
    want = np.fromfile(os.path.join(d, "output.bin"), dtype=np.float32).reshape(shape)
    with torch.no_grad():
        got = net(x, meta["cNoise"]).permute(0, 2, 3, 1).numpy()
    print(json.dumps({"maxAbsDiff": float(np.abs(got - want).max()), "maxAbs": float(np.abs(want).max()),
                      "params": int(sum(p.numel() for p in net.parameters())), "unusedWeights": unused}))


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("check", "bench"):
        sys.exit(__doc__)
    if sys.argv[1] == "check":
        check(sys.argv[2])
    else:
        with open(sys.argv[2]) as f:
            bench(json.load(f))
