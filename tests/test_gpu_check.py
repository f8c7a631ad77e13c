"""`make gpu-check` and the step benchmark it drives, as far as a machine without a GPU goes."""

import json
import subprocess
import sys
import time

import benchmark_step
import profile_step
import pytest
import torch
from intdim.measure import benchmark, gpu_check
from intdim.pipeline import numerics


def run_gpu_check(repo_root, out, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "tools/gpu_check.py", "--out", str(out), *args],
                          cwd=repo_root, capture_output=True, text=True, timeout=900)  # fmt: skip


# The suite runs the kernel test files itself; here smoke mode runs the smallest of them.
@pytest.mark.slow
@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the smoke mode")
def test_gpu_check_without_a_gpu_says_so_and_runs_the_interpreter_kernel_tests(repo_root, tmp_path):
    out = tmp_path / "gpu_check.json"
    proc = run_gpu_check(repo_root, out, "--tests", "tests/test_stream_parts.py")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "no CUDA device: smoke mode" in proc.stdout
    report = json.loads(out.read_text())
    assert report["mode"] == "smoke" and report["tests"]["files"] == ["tests/test_stream_parts.py"]
    assert report["tests"]["passed"] >= 3 and report["tests"].get("failed", 0) == 0
    assert report["versions"]["torch"] == torch.__version__ and report["versions"]["gpu"] is None


@pytest.mark.slow
@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the smoke mode")
def test_gpu_check_fails_when_a_kernel_test_fails(repo_root, tmp_path):
    failing = tmp_path / "test_failing_kernel.py"
    failing.write_text("def test_passes():\n    pass\n\n\ndef test_fails():\n    assert 1 == 2\n")
    out = tmp_path / "gpu_check.json"
    proc = run_gpu_check(repo_root, out, "--tests", str(failing))
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    tests = json.loads(out.read_text())["tests"]
    assert (tests["passed"], tests["failed"]) == (1, 1)
    assert "1 failed, 1 passed" in proc.stdout


def test_the_integration_step_names_what_is_missing(monkeypatch, tmp_path):
    monkeypatch.setattr(gpu_check, "INTEGRATION_NEEDS", ["snakemake", "no_such_package_xyz"])
    result = gpu_check.run_integration(tmp_path)
    assert result == {"status": "skipped", "reason": "not installed here: no_such_package_xyz "
                      "(make gpu-wheelhouse carries them)"}  # fmt: skip


def test_a_wheel_whose_requirement_the_node_lacks_is_named(tmp_path):
    # A distribution installed the way the wheelhouse is (--target, --no-deps), whose
    # requirement is nowhere: pip check names both; without it on the path, neither.
    site = tmp_path / "site"
    info = site / "wheelhouse_probe-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: wheelhouse-probe\n"
                                   "Version: 1.0\nRequires-Dist: no-such-dependency-xyz>=2\n")  # fmt: skip
    env = gpu_check.environment()
    env["PYTHONPATH"] = f"{site}:{env['PYTHONPATH']}"
    probe = [line for line in gpu_check.dependency_conflicts(env) if "wheelhouse-probe" in line]
    assert probe == [
        "wheelhouse-probe 1.0 requires no-such-dependency-xyz, which is not installed."
    ]
    clean = gpu_check.dependency_conflicts(gpu_check.environment())
    assert not any("wheelhouse-probe" in line for line in clean)


@pytest.mark.slow
def test_the_multi_pass_schemes_are_timed_and_checked_against_each_other(tmp_path):
    # On the CPU under the interpreter, at a size where both schemes run (LL = 64 > 32),
    # after the default plan (fused at this d).
    # One transform here (the tuning tool's own test times both); gpu-check asks for both.
    results = gpu_check.run_multi_pass(tmp_path, None, device="cpu", sizes={"tiny": 600},
                                       dims=[40], fused_max=32, work=[1024],
                                       hadamards=("dot",))  # fmt: skip
    tiny = results["tiny"]
    assert tiny["status"] == "ok" and tiny["meta"]["D"] == 600
    plans = [tuple(r["plan"]) for r in tiny["rows"]]
    assert plans == [
        ("fused", 32, "butterfly"),  # the default plan comes first, whatever was asked for
        ("gather", 32, 10, "dot"),
        ("factored", 8, 8, 10, "dot"),
    ]
    table = gpu_check.multi_pass_table(results)
    assert "('factored', 8, 8, 10, 'dot')" in table and "('gather', 32, 10, 'dot')" in table
    late = gpu_check.run_multi_pass(tmp_path, time.monotonic(), sizes={"tiny": 600})
    assert late == {"tiny": {"status": "skipped", "reason": "past the time budget"}}
    assert "tiny          skipped: past the time budget" in gpu_check.multi_pass_table(late)


@pytest.mark.slow
def test_the_fused_path_is_timed_with_its_stream_parts_removed_in_turn(tmp_path):
    from intdim.measure.stream_parts import STREAM_PARTS

    results = gpu_check.run_multi_pass(tmp_path, None, device="cpu", sizes={"tiny": 600},
                                       dims=[40], work=[1024], hadamards=("butterfly",),
                                       extra=("--stream-breakdown",),
                                       name="stream_breakdown")  # fmt: skip
    tiny = results["tiny"]
    assert tiny["status"] == "ok" and (tmp_path / "stream_breakdown_tiny.json").exists()
    removed = [r.get("removed") for r in tiny["rows"]]
    assert removed == [None] + [part for part, _ in STREAM_PARTS]
    assert {tuple(r["plan"]) for r in tiny["rows"]} == {("fused", 32, "butterfly")}
    assert "- Pi's Feistel rounds" in gpu_check.multi_pass_table(results)


@pytest.mark.slow
def test_the_step_benchmark_runs_in_process_and_writes_its_rows(tmp_path):
    out = tmp_path / "step.json"
    benchmark_step.main(["--device", "cpu", "--models", "minilm", "--dims", "300",
                         "--methods", "did", "said", "--backends", "torch", "--steps", "1",
                         "--warmup", "0", "--in-process", "--out", str(out)])  # fmt: skip
    written = json.loads(out.read_text())
    rows = written["rows"]
    # the CPU by name, family and model: a virtual machine's platform string names none
    assert written["machine"]["cpu"] == numerics.this_cpu() and "(" in written["machine"]["cpu"]
    assert [(r["method"], r["d"]) for r in rows] == [("full", None), ("did", 300), ("said", 300)]
    assert all(r["status"] == "ok" for r in rows), rows
    for row in rows[1:]:
        assert row["projection_backend"] == "FastfoodProjection"
        assert row["floor_s"] == pytest.approx(8 * row["D"] / row["bandwidth_Bps"])
        assert row["projection_s"] > 0 and row["peak_bytes"] > 0


def test_said_below_its_tensor_count_runs_with_one_scale_a_layer(tmp_path):
    # MiniLM has 105 weight tensors but 8 layer groups: SAID at d = 20 leaves no dimension
    # for theta_d with a scale a tensor, and runs with one a layer (the workflow's default).
    spec = dict(device="cpu", model="minilm", method="said", d=20, backend="numba", batch=2,
                seq=8, steps=1, warmup=0, bf16=False)  # fmt: skip
    row = benchmark.run_in_process(spec)
    assert row["status"] == "failed"
    assert row["reason"].startswith("ValueError: SAID with grouping 'tensor' has m=105 scales")
    out = tmp_path / "step.json"
    benchmark_step.main(["--device", "cpu", "--models", "minilm", "--dims", "20", "--methods",
                         "said", "--said-grouping", "layer", "--backends", "numba", "--batch",
                         "2", "--seq", "8", "--steps", "1", "--warmup", "0", "--in-process",
                         "--out", str(out)])  # fmt: skip
    said = json.loads(out.read_text())["rows"][1]
    assert (said["status"], said["said_grouping"], said["d"]) == ("ok", "layer", 20)
    assert said["trainable_bytes"] == 4 * 20


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A tiny RoBERTa saved as a model directory, as the workflow's pre-training writes one."""
    from transformers import RobertaConfig, RobertaForMaskedLM

    torch.manual_seed(0)
    shape = dict(vocab_size=64, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                 intermediate_size=32, max_position_embeddings=24)  # fmt: skip
    path = tmp_path_factory.mktemp("model") / "checkpoint"
    RobertaForMaskedLM(RobertaConfig(**shape)).save_pretrained(path)
    return path


@pytest.mark.slow
def test_the_step_benchmark_times_a_checkpoint_with_portable_numerics(checkpoint, tmp_path):
    # Each isolated configuration switches its process to portable numerics before its first
    # tensor operation.
    out = tmp_path / "step.json"
    benchmark_step.main(["--models", str(checkpoint), "--methods", "said", "--dims", "50",
                         "--said-grouping", "layer", "--backends", "numba", "--batch", "2",
                         "--seq", "8", "--steps", "1", "--warmup", "0", "--numerics", "portable",
                         "--out", str(out)])  # fmt: skip
    rows = json.loads(out.read_text())["rows"]
    settings = [(r["status"], r["method"], r["d"]) for r in rows]
    assert settings == [("ok", "full", None), ("ok", "said", 50)], rows
    for row in rows:
        assert row["numerics"] == "portable" and row["cpu_capability"] == "DEFAULT"
        assert row["mkl_branch"] in (numerics.MKL_CBWR_COMPATIBLE, None)  # None: not exposed
    with pytest.raises(SystemExit):  # portable numerics pin CPU arithmetic only
        benchmark_step.main(["--device", "cuda", "--numerics", "portable"])


def test_the_step_profile_of_a_checkpoint_is_written_under_its_name(checkpoint, tmp_path,
                                                                     monkeypatch):  # fmt: skip
    monkeypatch.chdir(tmp_path)
    profile_step.main(["--device", "cpu", "--model", str(checkpoint), "--method", "said", "--d",
                       "50", "--said-grouping", "layer", "--backend", "numba", "--batch", "2",
                       "--seq", "8", "--steps", "1"])  # fmt: skip
    written = json.loads((tmp_path / "results/benchmark/profile_checkpoint_said.json").read_text())
    assert written["spec"]["numerics"] == "native" and written["spec"]["said_grouping"] == "layer"
    assert written["spec"]["model"] == str(checkpoint) and "aten::addmm" in written["table"]
    with pytest.raises(SystemExit):
        profile_step.main(["--device", "cuda", "--numerics", "portable"])


def test_the_small_block_switch_chooses_the_cpu_fastfood_path_and_is_undone(checkpoint, tmp_path):
    from intdim.fastfood import cpu

    default, out = cpu.SMALL_BLOCK, tmp_path / "step.json"
    common = ["--models", str(checkpoint), "--methods", "did", "--dims", "10", "--backends",
              "numba", "--batch", "2", "--seq", "8", "--steps", "1", "--warmup", "0",
              "--in-process", "--out", str(out)]  # fmt: skip
    benchmark_step.main([*common, "--small-block", "8"])
    vector = json.loads(out.read_text())["rows"][1]
    benchmark_step.main(common)
    batched = json.loads(out.read_text())["rows"][1]
    # d = 10 makes blocks of 16 numbers: batched by default, not with a limit of 8
    assert (vector["status"], vector["cpu_fastfood_path"], vector["small_block"]) == (
        "ok", "vector", 8)  # fmt: skip
    assert (batched["cpu_fastfood_path"], batched["small_block"]) == ("batched", None)
    assert cpu.SMALL_BLOCK == default
    with pytest.raises(SystemExit):
        benchmark_step.main([*common, "--small-block", "-1"])


def test_a_captured_step_needs_a_cuda_device_and_says_so():
    spec = dict(device="cpu", model="minilm", method="full", d=None, backend=None, batch=2,
                seq=8, steps=1, warmup=0, bf16=False, graphs=True)  # fmt: skip
    row = benchmark.run_in_process(spec)
    assert row["status"] == "failed"
    assert row["reason"] == "ValueError: graphs: CUDA graphs need a CUDA device, not 'cpu'"
    with pytest.raises(SystemExit):
        benchmark_step.main(["--device", "cpu", "--graphs"])


def test_each_row_is_compared_with_the_full_step_of_its_own_setting():
    def row(method, seq, graphs, samples):
        return {"model": "m", "method": method, "d": None if method == "full" else 1000,
                "seq": seq, "graphs": graphs, "status": "ok", "step_samples_s": samples,
                "step_s": sorted(samples)[len(samples) // 2], "floor_s": 0.001,
                "peak_bytes": 2**20}  # fmt: skip

    rows = [row("full", 128, True, [1.0, 1.0, 2.0, 3.0, 3.0]),
            row("full", 512, True, [4.0] * 5),
            row("did", 128, True, [1.0, 2.0, 3.0, 4.0, 5.0]),
            row("did", 512, True, [6.0] * 5),
            row("did", 512, False, [6.0] * 5)]  # fmt: skip
    lines = benchmark.format_table(rows).splitlines()[2:]
    full = {benchmark._setting(r): r for r in rows[:2]}
    assert benchmark.step_ratio(rows[2], full[("m", 128, True)]) == pytest.approx((2 / 3, 1.5, 4))
    # ratios 1.50 (0.67-4.00) at 128, 1.50 (1.50-1.50) at 512, none without graphs' full row
    assert "1.50     0.67-4.00" in lines[2] and lines[2].endswith("(graph)")
    assert "1.50     1.50-1.50" in lines[3]
    assert "nan" in lines[4] and not lines[4].endswith("(graph)")


def test_rows_past_the_time_budget_are_listed_as_skipped_and_saved_as_they_come():
    import time
    from types import SimpleNamespace

    args = SimpleNamespace(device="cpu", models=["minilm"], dims=[300, 3000], methods=["did"],
                           backends=["torch"], batch=2, seq=8, steps=1, warmup=0,
                           in_process=True, deadline=time.monotonic() - 1)  # fmt: skip
    saved = []
    rows = benchmark.benchmark(args, on_row=lambda rows: saved.append(len(rows)))
    assert [(r["method"], r["d"], r["status"]) for r in rows] == [
        ("full", None, "skipped"), ("did", 300, "skipped"), ("did", 3000, "skipped")]  # fmt: skip
    assert saved == [1, 2, 3]
    assert benchmark.format_table(rows).count("skipped: time budget spent") == 3


def test_the_decoders_are_built_with_the_public_models_parameter_counts():
    # As 2-way classifiers: Qwen2.5-0.5B's 494,032,768 (embedding tied to the LM head) and
    # 7B's 7,615,616,512 less its untied LM head (152,064 x 3,584), plus a 2 x width score.
    counts = {}
    for name in ("qwen2.5-0.5b", "qwen2.5-7b"):
        model = benchmark.build_model(name, "meta", torch.bfloat16)
        counts[name] = sum(p.numel() for p in model.parameters())
        assert next(model.parameters()).dtype == torch.bfloat16
    assert counts == {"qwen2.5-0.5b": 494_032_768 + 2 * 896,
                      "qwen2.5-7b": 7_615_616_512 - 152_064 * 3_584 + 2 * 3_584}  # fmt: skip


def test_a_decoder_row_holds_theta_0_and_its_gradient_in_bf16(monkeypatch):
    tiny = dict(hidden_size=16, intermediate_size=32, num_hidden_layers=2, num_attention_heads=2,
                num_key_value_heads=1, vocab_size=151_700, tie_word_embeddings=True)  # fmt: skip
    monkeypatch.setitem(benchmark.DECODER_SIZES, "qwen2.5-0.5b", tiny)
    spec = dict(device="cpu", batch=2, seq=8, steps=1, warmup=1, bf16=True, model="qwen2.5-0.5b",
                method="did", d=100, weights="bf16", backend="torch")  # fmt: skip
    row = benchmark.run_one(spec)
    assert row["theta0_bytes"] == row["flat_gradient_bytes"] == 2 * row["D"]
    assert row["peak_bytes_per_parameter"] == row["peak_bytes"] / row["D"]


def test_the_decoder_table_says_whether_full_finetuning_fits():
    rows = [{"model": "qwen2.5-7b", "method": "did", "d": 1_000_000, "status": "ok",
             "step_s": 0.5, "peak_bytes": 48 * 2**30, "peak_bytes_per_parameter": 7.3}]  # fmt: skip
    modelled = {"qwen2.5-7b": {"D": 7e9, "full_finetune_bytes": 126e9, "fits": False}}
    text = gpu_check.decoder_table(
        {"rows": rows, "full_finetune_modelled": modelled, "gpu_bytes": 80 * 2**30}
    )
    assert "qwen2.5-7b    did        1e+06    0.500      48.0      7.3" in text
    assert "full FT modelled: 117.3 GiB before activations, does not fit 80 GiB" in text


def test_after_a_failed_row_the_rest_run_each_in_a_fresh_process(monkeypatch):
    # A failed CUDA-graph capture can leave its process's CUDA state unusable: the rows after
    # it must not inherit that.
    where = []

    def here(spec):
        where.append(("here", spec["n"]))
        return {**spec, "status": "failed" if spec["n"] == 1 else "ok"}

    def fresh(spec):
        where.append(("fresh", spec["n"]))
        return {**spec, "status": "ok"}

    monkeypatch.setattr(benchmark, "run_in_process", here)
    monkeypatch.setattr(benchmark, "run_isolated", fresh)
    run = benchmark.in_process_until_a_failure()
    statuses = [run({"n": n})["status"] for n in range(4)]
    assert statuses == ["ok", "failed", "ok", "ok"]
    assert where == [("here", 0), ("here", 1), ("fresh", 2), ("fresh", 3)]


def test_the_integration_step_is_run_beside_the_kernel_tests_and_before_any_timing(
    monkeypatch, tmp_path
):
    events = []

    def stage(name, seconds, result):
        def run(*args, **kwargs):
            events.append((name, "start"))
            time.sleep(seconds)
            events.append((name, "end"))
            return result

        return run

    monkeypatch.setattr(gpu_check, "versions", lambda: {"gpu": "stand-in", "torch": "-",
                                                        "triton": "-", "transformers": "-"})  # fmt: skip
    monkeypatch.setattr(gpu_check, "run_tests",
                        stage("tests", 0.2, {"returncode": 0, "summary": "1 passed"}))  # fmt: skip
    monkeypatch.setattr(gpu_check, "run_integration", stage("integration", 0.5, {"status": "ok"}))
    monkeypatch.setattr(gpu_check, "run_multi_pass", stage("projection", 0, {}))
    monkeypatch.setattr(gpu_check, "run_kernels", stage("kernels", 0, {}))
    monkeypatch.setattr(gpu_check, "run_decoders", stage("decoders", 0, {"rows": []}))
    monkeypatch.setattr(gpu_check, "run_benchmark", stage("steps", 0, []))
    report, ok = gpu_check.check(tmp_path / "gpu_check.json", budget_s=60)
    assert ok and report["integration"] == {"status": "ok"}
    assert events[:2] == [("integration", "start"), ("tests", "start")] or events[:2] == [
        ("tests", "start"), ("integration", "start")]  # fmt: skip
    timing = events.index(("projection", "start"))
    assert ("integration", "end") in events[:timing] and ("tests", "end") in events[:timing]
    assert [name for name, edge in events[timing:] if edge == "start"] == [
        "projection", "projection", "kernels", "decoders", "steps"]  # fmt: skip


def test_kernel_times_are_per_forward_and_transpose_slowest_first_without_host_only_names():
    from types import SimpleNamespace as Average

    from intdim.measure.kernel_profile import kernel_times

    averages = [Average(key="_rows_pass", count=8, self_device_time_total=3000.0),
                Average(key="aten::empty", count=4, self_device_time_total=0.0),
                Average(key="_columns_pass", count=16, self_device_time_total=9000.0)]  # fmt: skip
    rows = kernel_times(averages, repeats=2)
    assert rows == [
        {"kernel": "_columns_pass", "launches": 8.0, "ms": 4.5, "share": 0.75},
        {"kernel": "_rows_pass", "launches": 4.0, "ms": 1.5, "share": 0.25},
    ]


def test_the_projection_profile_runs_and_lists_a_plan_once_for_all_schemes(tmp_path):
    out = tmp_path / "kernels.json"
    proc = subprocess.run(
        [sys.executable, "tools/profile_projection.py", "--device", "cpu", "--D", "600",
         "--dims", "40", "--repeats", "1", "--out", str(out)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(out.read_text())
    # d = 40 is fused whatever the multi-pass scheme: one row, and no device time on a CPU.
    assert [row["plan"] for row in result["rows"]] == [["fused", 32, "butterfly"]]
    assert result["rows"][0]["kernels"] == []
    assert "(no device time)" in proc.stdout


def test_ncu_runs_the_default_scheme_with_clocks_left_alone_and_its_csv_is_summarised(tmp_path):
    from intdim.fastfood.kernels import MULTI_PASS_SCHEMES

    command = gpu_check.ncu_command("ncu", tmp_path / "ncu.csv", 1000, 10)
    assert command[:3] == ["ncu", "--clock-control", "none"]
    assert command[command.index("--multi-pass") + 1] == MULTI_PASS_SCHEMES[0]
    assert "--plain" in command and command[command.index("--page") + 1] == "details"
    header = ('"ID","Process ID","Process Name","Host Name","Kernel Name","Context","Stream",'
              '"Section Name","Metric Name","Metric Unit","Metric Value"')  # fmt: skip
    rows = [(0, "_rows_pass", "Duration", "msecond", "1.50"),
            (0, "_rows_pass", "DRAM Throughput", "%", "12.3"),
            (1, "_columns_pass", "Duration", "msecond", "2.00"),
            (2, "_rows_pass", "Duration", "msecond", "9.99")]  # fmt: skip
    text = (
        "==PROF== Connected to process\n"
        + header
        + "\n"
        + "\n".join(
            f'"{i}","1","python3","h","{name}","1","7","SpeedOfLight","{metric}","{unit}","{value}"'
            for i, name, metric, unit, value in rows
        )
    )
    assert gpu_check.ncu_summary(text) == {
        "_rows_pass": {"launches": 2, "Duration": "1.50 msecond", "DRAM Throughput": "12.3 %"},
        "_columns_pass": {"launches": 1, "Duration": "2.00 msecond"},
    }
    assert gpu_check.ncu_summary("no report here") == {}
    table = gpu_check.kernels_table({"ncu": {"kernels": gpu_check.ncu_summary(text)},
                                     "profile": {"status": "skipped", "reason": "budget"}})  # fmt: skip
    assert "ncu _rows_pass (2 launches): Duration 1.50 msecond, DRAM Throughput 12.3 %" in table


def test_without_ncu_the_kernel_stage_profiles_and_says_why_there_are_no_counters(
    monkeypatch, tmp_path
):
    monkeypatch.setattr(gpu_check.shutil, "which", lambda name: None)
    monkeypatch.setattr(gpu_check, "MULTI_PASS_D", {"roberta-base": 600})
    monkeypatch.setattr(gpu_check, "KERNEL_DIMS", [40])
    result = gpu_check.run_kernels(tmp_path, None)
    assert result["ncu"] == {"status": "skipped", "reason": "ncu is not on the PATH"}
    assert result["profile"]["status"] == "ok"
    assert [row["plan"] for row in result["profile"]["rows"]] == [
        ["fused", 32, "butterfly"],
        ["fused", 32, "dot"],
    ]
    late = gpu_check.run_kernels(tmp_path, time.monotonic())
    assert late["profile"] == {"status": "skipped", "reason": "past the time budget"}


def test_the_counters_are_summarised_and_kept_wherever_ncu_writes_its_report(monkeypatch, tmp_path):
    # A stand-in ncu that writes only its own lines to --log-file and the report to stdout.
    fake = tmp_path / "ncu"
    fake.write_text(
        "#!/bin/sh\n"
        'while [ "$1" != "--log-file" ]; do shift; done\n'
        'echo "==PROF== Disconnected" > "$2"\n'
        'echo \'"ID","Kernel Name","Section Name","Metric Name","Metric Unit",'
        '"Metric Value"\'\n'
        'echo \'"0","_rows_pass","SpeedOfLight","Duration","usecond","812.5"\'\n'
    )
    fake.chmod(0o755)
    monkeypatch.setattr(gpu_check.shutil, "which", lambda name: str(fake))
    monkeypatch.setattr(gpu_check, "MULTI_PASS_D", {"roberta-base": 600})
    monkeypatch.setattr(gpu_check, "KERNEL_DIMS", [40])
    result = gpu_check.run_kernels(tmp_path, None)
    assert result["ncu"]["status"] == "ok"
    assert result["ncu"]["kernels"] == {"_rows_pass": {"launches": 1, "Duration": "812.5 usecond"}}
    kept = (tmp_path / "ncu_projection.csv").read_text()
    assert kept.startswith("==PROF== Disconnected") and '"_rows_pass"' in kept
