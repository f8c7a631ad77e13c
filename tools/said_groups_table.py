"""Print SAID's m (number of learned scales) per architecture and grouping, as a Markdown table.

Models are built from their default (base-size) configs on the meta device: no weights, no
network. ``python tools/said_groups_table.py``
"""

import torch
from intdim.method.subspace import GROUPINGS, parameter_groups
from transformers import AutoConfig, AutoModelForSequenceClassification

# model_type -> a base-size configuration's name (default configs are base-size for these)
FAMILIES = ["bert", "roberta", "xlm-roberta", "electra", "albert", "xlnet", "bart", "t5"]


def main() -> None:
    print("| architecture (default config) | D | m, tensor | m, layer |")
    print("|---|---:|---:|---:|")
    for family in FAMILIES:
        config = AutoConfig.for_model(family, num_labels=2)
        with torch.device("meta"):
            model = AutoModelForSequenceClassification.from_config(config)
        names = [n for n, _ in model.named_parameters()]
        D = sum(p.numel() for p in model.parameters())
        m = [len(set(parameter_groups(names, g))) for g in GROUPINGS]
        print(f"| {family} | {D:,} | {m[0]} | {m[1]} |")


if __name__ == "__main__":
    main()
