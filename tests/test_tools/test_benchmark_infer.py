"""tools/analysis_tools/benchmark_infer.py times whole, slide and TTA inference."""

TOOL = ["tools/analysis_tools/benchmark_infer.py", "configs/deeplabv3_r18_toycity.py"]
TINY = ["--size", "64", "128", "--steps", "1", "--warmup", "0"]


def table_rows(stdout: str) -> dict[str, list[str]]:
    """{mode: cells} of the printed markdown table."""
    rows = [line.strip("|").split("|") for line in stdout.splitlines() if line.startswith("| ")]
    return {cells[0].strip(): [c.strip() for c in cells[1:]] for cells in rows[2:]}


def test_benchmark_infer_times_three_modes(run_tool):
    options = ["--crop", "32", "64", "--stride", "21", "42", "--tta-ratios", "0.5", "1.0"]
    done = run_tool([*TOOL, *TINY, *options], timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "command: python " in done.stdout and "torch " in done.stdout
    rows = table_rows(done.stdout)
    assert set(rows) == {"whole", "slide", "tta"}
    for _what, images_per_s, ms_per_image, _memory in rows.values():
        assert float(images_per_s) > 0 and float(ms_per_image) > 0
    # Window starts along 64 rows: 0, 21 and the border-aligned 32; along 128 columns: 0, 42
    # and 64. The config's test_cfg is whole, so --crop / --stride apply.
    assert "slide: 9 windows per image (crop 32x64, stride 21x42)" in done.stdout
    assert rows["slide"][0] == "9 windows" and rows["whole"][0] == "1 forward"
    assert rows["tta"][0] == "4 views, whole"  # 2 ratios x (plain, flipped)


def test_benchmark_infer_uses_the_configs_sliding_window(run_tool):
    slide = ["model.test_cfg.mode=slide", "model.test_cfg.crop_size=[48,48]"]
    slide.append("model.test_cfg.stride=[32,32]")
    done = run_tool([*TOOL, *TINY, "--modes", "slide", "--cfg-options", *slide], timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    # Rows: 0, 16 (= 64 - 48); columns: 0, 32, 64, 80 (= 128 - 48).
    assert "slide: 8 windows per image (crop 48x48, stride 32x32)" in done.stdout
    assert set(table_rows(done.stdout)) == {"slide"}


def test_benchmark_infer_rejects_bad_modes_and_sizes(run_tool):
    done = run_tool([*TOOL, *TINY, "--modes", "whole", "fast"], timeout=60)
    assert done.returncode == 2
    assert "vipseg: error: --modes takes whole, slide, tta; got fast" in done.stderr
    done = run_tool([*TOOL, "--size", "0", "128"], timeout=60)
    assert done.returncode == 2
    assert "vipseg: error: --size must be two positive integers, got [0, 128]" in done.stderr
    assert "Traceback" not in done.stderr
