"""Print the modelled memory of a training step (intdim.measure.memory) for decoder sizes on an
80 GB GPU, as docs/methods.md's table: `python tools/memory_table.py`."""

from intdim.measure.memory import table

# name -> (parameters, the largest tensor's: the embedding matrix, vocabulary x width)
SIZES = {"0.5B (Qwen2.5-0.5B)": (494_032_768, 151_936 * 896),
         "1.5B (Qwen2.5-1.5B)": (1_543_714_304, 151_936 * 1536),
         "7B (Qwen2.5-7B)": (7_615_616_512, 152_064 * 3584)}  # fmt: skip


def main() -> None:
    rows = table(SIZES)
    configs = list(dict.fromkeys(r["configuration"] for r in rows))
    print("| model | D | " + " | ".join(configs) + " |")
    print("|---|---:|" + "---:|" * len(configs))
    for model in SIZES:
        cells = [r for r in rows if r["model"] == model]
        values = [f"{r['GB']:.1f}{'' if r['fits'] else ' (over 80)'}" for r in cells]
        print(f"| {model} | {cells[0]['D'] / 1e9:.2f}B | " + " | ".join(values) + " |")


if __name__ == "__main__":
    main()
