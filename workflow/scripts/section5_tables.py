"""Snakemake script: Section 5's tables from the finished searches, baselines and bounds."""

from intdim.analysis import section5
from intdim.pipeline.integrity import load_json
from script_log import logged


def read(paths):
    return [load_json(p) for p in paths]


def main(snakemake):
    p = snakemake.params
    results = read(snakemake.input.results)
    by_key = {(r["model"], r["task"], r["method"]): r for r in results}
    baselines = {}
    for base in read(snakemake.input.baselines):
        baselines[(base["runs"][0]["model"], base["runs"][0]["task"])] = base
    metas = {m["name"]: m for m in read(snakemake.input.metas)}
    section5.search_table(results).to_csv(snakemake.output.search, index=False)
    section5.probe_table(results).to_csv(snakemake.output.probes, index=False)
    trajectory = section5.trajectory_table(p.trajectories, p.trajectory_specs, by_key, baselines)
    trajectory.to_csv(snakemake.output.trajectory, index=False)
    survey = p.survey or {}  # no survey: no models, so its method is never read
    section5.survey_table(p.survey_models, survey.get("tasks", []), survey.get("method"), by_key,
                          metas).to_csv(snakemake.output.survey, index=False)  # fmt: skip
    section5.bound_table(read(snakemake.input.bounds)).to_csv(snakemake.output.bounds, index=False)


with logged(snakemake):  # noqa: F821
    main(snakemake)  # noqa: F821
