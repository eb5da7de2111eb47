"""Plots for bench/results/e2e.json: latency against uplink bandwidth per mode, accuracy against bytes."""
import json
import textwrap
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(path: str, out: str) -> None:
    with open(path) as f:
        data = json.load(f)
    cells = data["cells"]
    sizes = sorted({c["imagesPerRequest"] for c in cells})
    fig, axes = plt.subplots(1, len(sizes), figsize=(6 * len(sizes), 4.5), squeeze=False)
    # tab20, not the default 10-colour cycle, so no two of the (up to 11) series share a colour
    palette = plt.get_cmap("tab20").colors
    for ax, size in zip(axes[0], sizes):
        rows = [c for c in cells if c["imagesPerRequest"] == size]
        configs = sorted({(c["mode"], c["config"]) for c in rows if c["uplinkKbps"] is not None})
        for i, (mode, config) in enumerate(configs):
            series = sorted((c["uplinkKbps"], c["medianTotalMs"]) for c in rows if c["mode"] == mode and c["config"] == config)
            style = {"split": "-", "offload": "--"}.get(mode, ":")
            ax.plot([s[0] for s in series], [s[1] for s in series], style, marker="o", markersize=3, color=palette[i % len(palette)], label=f"{mode} {config}")
        for c in rows:
            if c["mode"] == "on-device":
                ax.axhline(c["medianTotalMs"], color="green", linestyle=":", label="on-device full")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("uplink kbit/s (DevTools throttle)")
        ax.set_ylabel("median latency per request, ms")
        ax.set_title(f"{size} image(s) per request")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=6, ncol=2)
    note = data["environment"]["backend"] + " — " + data["environment"].get("webgpuNote", "")
    fig.suptitle(textwrap.fill(note, 180), fontsize=8)
    fig.tight_layout()
    fig.savefig(f"{out}/e2e-latency.png", dpi=110)

    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    seen = set()
    for c in cells:
        if c["mode"] == "on-device" or c["uplinkKbps"] is None:
            continue
        key = (c["mode"], c["config"], c["imagesPerRequest"])
        if key in seen:
            continue
        seen.add(key)
        color = "tab:blue" if c["mode"] == "split" else "tab:orange"
        marker = "o" if c["imagesPerRequest"] == 1 else "s"
        ax.scatter(c["wireBytesPerImage"], c["accuracy"] * 100, color=color, marker=marker, s=18)
        ax.annotate(f'{c["config"]}×{c["imagesPerRequest"]}', (c["wireBytesPerImage"], c["accuracy"] * 100), fontsize=5)
    for c in cells:
        if c["mode"] == "on-device":
            ax.axhline(c["accuracy"] * 100, color="green", linestyle=":", linewidth=1)
    ax.set_xscale("log")
    ax.set_xlabel("wire bytes per image (WebSocket payload)")
    ax.set_ylabel("accuracy on the streamed images, %")
    ax.set_title("accuracy against bytes (circles: 1 image/request, squares: 16)")
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(f"{out}/e2e-accuracy-bytes.png", dpi=110)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
