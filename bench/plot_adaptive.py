"""Plots for bench/results/adaptive.json: auto's decision timeline over a trace, and on-time accuracy per policy."""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def live_timeline(data):
    """The live auto run to draw: the one at the highest slowdown with the most requests."""
    live = [r for r in data["live"] if r["policy"] == "auto" and r.get("timeline")]
    if not live:
        return None
    run = max(live, key=lambda r: (r["slowdown"], r["requests"], -r["sloMs"]))
    title = f"live auto in Chromium, {run['trace']} from {run['segment']['offsetMs'] / 1000:.0f} s, {run['slowdown']}x, SLO {run['sloMs']} ms"
    return title, run["timeline"], run["capacityKbps"], run["sloMs"]


def sim_timeline(data):
    """The simulated whole-trace timeline to draw: the longest real trace, at the highest slowdown, the lowest SLO."""
    sims = data.get("simTimelines", [])
    if not sims:
        return None
    pick = max(sims, key=lambda s: (len(s["capacityKbps"]), s["slowdown"], -s["sloMs"]))
    thinned = f", every {pick['thinnedEvery']}th request shown" if pick.get("thinnedEvery") else ""
    title = f"simulated auto, {pick['trace']} (whole trace), {pick['slowdown']}x, SLO {pick['sloMs']} ms{thinned}"
    return title, pick["points"], pick["capacityKbps"], pick["sloMs"]


def plot_timeline(source, file):
    if source is None:
        return
    title, points, capacity, slo = source
    fig, (ax1, ax2, ax3) = plt.subplots(3, 1, figsize=(12, 8), sharex=True, gridspec_kw={"height_ratios": [2, 1.3, 1]})
    configs = sorted({p[1] for p in points}, key=lambda c: (c != "full", c != "png", c))
    ypos = {c: i for i, c in enumerate(configs)}
    xs = [p[0] for p in points]
    ax1.scatter(xs, [ypos[p[1]] for p in points], s=6, c=["tab:red" if p[4] else "tab:blue" for p in points])
    ax1.set_yticks(range(len(configs)))
    ax1.set_yticklabels(configs, fontsize=6 if len(configs) > 20 else 7)
    ax1.set_ylabel("chosen candidate")
    ax1.set_title(title + " (red: exploration)", fontsize=9)
    ax2.step(range(len(capacity)), capacity, where="post", color="grey", label="trace capacity (1-s)")
    est = [(p[0], p[2]) for p in points if p[2] is not None]
    if est:
        ax2.plot([e[0] for e in est], [e[1] for e in est], ".", markersize=2, color="tab:orange", label="uplink estimate")
    ax2.set_yscale("symlog", linthresh=50)
    ax2.set_ylabel("kbit/s")
    ax2.legend(fontsize=7, loc="upper right")
    ax3.plot(xs, [p[3] for p in points], ".", markersize=2, color="tab:blue")
    ax3.axhline(slo, color="tab:red", linestyle="--", linewidth=1, label=f"SLO {slo} ms")
    ax3.set_yscale("log")
    ax3.set_ylabel("request ms")
    ax3.set_xlabel("time (s)")
    ax3.legend(fontsize=7, loc="upper right")
    ax3.set_xlim(0, max(len(capacity), max(xs) if xs else 0))
    fig.tight_layout()
    fig.savefig(file, dpi=110)
    plt.close(fig)


def plot_ontime(data, out):
    slos = data["options"]["slos"]
    live_statics = ["static " + s for s in data["options"]["liveStatics"]]
    panels = []
    for cell in data["simulated"]:
        for slo in slos:
            results = cell["results"]
            key = str(slo)
            statics = [r for r in results if r["policy"].startswith("static ")]
            best = max(statics, key=lambda r: r["metrics"][key]["onTimeAccuracy"]) if statics else None
            bars = []
            for name in ["oracle", "auto"]:
                r = next(r for r in results if r["policy"] == name)
                bars.append((name, r["metrics"][key]["onTimeAccuracy"]))
            if best is not None:
                bars.append((f"best {best['policy']}", best["metrics"][key]["onTimeAccuracy"]))
            for r in results:
                if r["policy"] in live_statics:
                    bars.append((r["policy"], r["metrics"][key]["onTimeAccuracy"]))
            panels.append((f"sim {cell['trace']} {cell['slowdown']}x SLO {slo}", bars))
    groups = {}
    for run in data["live"]:
        for slo in (slos if run["sloMs"] is None else [run["sloMs"]]):
            key = (run["trace"], run["slowdown"], slo)
            m = run["metrics"][str(slo)]
            agg = groups.setdefault(key, {})
            name = run["policy"]
            a = agg.setdefault(name, [0, 0.0])
            a[0] += m["images"]
            a[1] += m["onTimeAccuracy"] * m["images"]
            if run.get("oracle"):
                o = agg.setdefault("oracle (same segments)", [0, 0.0])
                om = run["oracle"][str(slo)]
                o[0] += om["images"]
                o[1] += om["onTimeAccuracy"] * om["images"]
    for (trace, slowdown, slo), agg in sorted(groups.items()):
        bars = [(name, v[1] / v[0]) for name, v in agg.items() if v[0] > 0]
        panels.append((f"live {trace} {slowdown}x SLO {slo}", bars))
    if not panels:
        return
    cols = min(4, len(panels))
    rows = (len(panels) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.4 * rows), squeeze=False)
    for ax in axes.flat[len(panels):]:
        ax.axis("off")
    colours = {"oracle": "tab:green", "auto": "tab:blue"}
    for ax, (title, bars) in zip(axes.flat, panels):
        names = [b[0] for b in bars]
        vals = [b[1] * 100 for b in bars]
        ax.barh(range(len(bars)), [v - max(0.0, min(vals) - 3) for v in vals], left=max(0.0, min(vals) - 3), color=[colours.get(n.split(" ")[0], "tab:grey") for n in names])
        ax.set_yticks(range(len(bars)))
        ax.set_yticklabels(names, fontsize=7)
        ax.invert_yaxis()
        # Zoomed to the values (differences of a point matter here); the axis says where it starts.
        low = max(0.0, min(vals) - 3)
        high = min(100.0, max(vals) + 1.5)
        ax.set_xlim(low, high)
        for i, v in enumerate(vals):
            ax.text(v, i, f" {v:.2f}", va="center", fontsize=7)
        ax.set_title(title, fontsize=8)
        ax.set_xlabel("on-time accuracy (%)", fontsize=7)
    fig.tight_layout()
    fig.savefig(f"{out}/adaptive-ontime.png", dpi=110)
    plt.close(fig)


def main(path, out):
    with open(path) as f:
        data = json.load(f)
    plot_timeline(live_timeline(data), f"{out}/adaptive-timeline.png")
    plot_timeline(sim_timeline(data), f"{out}/adaptive-timeline-sim.png")
    plot_ontime(data, out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
