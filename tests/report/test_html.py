"""The HTML report: self-contained, offline, every figure drawn, in real headless Chromium.

The browser tests need Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs
them); without them they skip with that reason. Screenshots go to ``artifacts/``.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from monoculture import Analysis, analyze
from monoculture.analysis_schema import SCHEMA_VERSION
from monoculture.cli.main import app
from monoculture.report.html import render_html
from monoculture.synthetic import latent_swarm

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
FIGURES = [
    "fig-error-consistency",
    "fig-same-wrong",
    "fig-k-of-n",
    "fig-vote-curve",
    "fig-risk-coverage",
    "fig-attributes",
]
needs_browser = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="Debian chromium and chromium-driver are not installed (.ci/run installs them)",
)
runner = CliRunner()


def _analysis(n_agents: int, n_items: int = 300, bootstrap: int = 50) -> Analysis:
    swarm = latent_swarm(n_agents=n_agents, n_items=n_items, seed=7)
    return analyze(swarm, bootstrap=bootstrap, seed=0, synthetic=True)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(render_html(_analysis(12).to_document()), encoding="utf-8")
    return path


GOVERNANCE_FIGURES = ["fig-governance-0"]


def test_page_is_self_contained(report: Path) -> None:
    page = report.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=", page)
    assert not re.search(r"<link[^>]+href=", page)
    assert not re.search(r"url\(\s*['\"]?https?:", page)
    assert "SYNTHETIC DATA" in page
    for figure in FIGURES + GOVERNANCE_FIGURES:
        assert f"id='{figure}'" in page


def test_plain_words_figures(report: Path) -> None:
    page = report.read_text(encoding="utf-8")
    assert "When two agents both fail," in page
    assert "independent errors spread over the wrong options would give" in page


def test_report_command_round_trip(tmp_path: Path) -> None:
    analysis = _analysis(4, n_items=120, bootstrap=10)
    saved = tmp_path / "analysis.json"
    saved.write_text(analysis.to_json())
    out = tmp_path / "out.html"
    result = runner.invoke(app, ["report", str(saved), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 1_000_000  # plotly.js is inlined


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: {**d, "version": SCHEMA_VERSION + 1}, "schema version"),
        (lambda d: {**d, "schema": "something.else"}, "expected a 'monoculture.analysis'"),
        (lambda d: {k: v for k, v in d.items() if k != "summary"}, "does not match"),
    ],
)
def test_report_rejects_other_documents(tmp_path: Path, mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    document = json.loads(_analysis(3, n_items=60, bootstrap=0).to_json())
    path = tmp_path / "other.json"
    path.write_text(json.dumps(mutate(document)))
    result = runner.invoke(app, ["report", str(path), "-o", str(tmp_path / "x.html")])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_report_rejects_a_truncated_file(tmp_path: Path) -> None:
    path = tmp_path / "cut.json"
    path.write_text(_analysis(3, n_items=60, bootstrap=0).to_json()[:500])
    result = runner.invoke(app, ["report", str(path)])
    assert result.exit_code == 2
    assert "truncated" in result.output


def test_large_swarm_heatmap_is_block_averaged() -> None:
    analysis = _analysis(160, n_items=120, bootstrap=0)
    page = render_html(analysis.to_document())
    assert "each cell is the mean over a block" in page


def _browser():  # type: ignore[no-untyped-def]
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-quic",
        "--no-first-run",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1200,2400",
        f"--user-data-dir={tempfile.mkdtemp(prefix='chromium-')}",
        # Network disabled: every host resolves to nothing, through a dead proxy.
        "--proxy-server=127.0.0.1:9",
        "--host-resolver-rules=MAP * ~NOTFOUND",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)


def _check_in_browser(path: Path, screenshot: str) -> dict[str, int]:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    page = path.read_text(encoding="utf-8")
    # The governance figures are there when the agents have groups (families of 12 agents;
    # not 2 agents, each its own family).
    figures = FIGURES + [f for f in GOVERNANCE_FIGURES if f"id='{f}'" in page]
    driver = _browser()
    try:
        driver.get(path.as_uri())
        WebDriverWait(driver, 30).until(
            lambda d: all(d.find_element(By.ID, f).get_attribute("data-rendered") for f in figures)
        )
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == [], errors
        requests = []
        for entry in driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"] == "Network.requestWillBeSent":
                requests.append(message["params"]["request"]["url"])
        # chrome:// pages are the browser's own; anything on the network would be http(s)/ws.
        remote = [u for u in requests if u.startswith(("http:", "https:", "ws:", "wss:", "ftp:"))]
        assert any(u.startswith("file:") for u in requests)
        assert remote == [], remote
        traces = {}
        for figure in figures:
            element = driver.find_element(By.ID, figure)
            assert element.size["height"] > 200, figure
            assert element.size["width"] > 300, figure
            assert element.find_elements(By.CSS_SELECTOR, "svg.main-svg"), figure
            traces[figure] = int(element.get_attribute("data-rendered"))
            drawn = driver.execute_script(
                "return arguments[0].querySelectorAll('.trace, .hm, image').length", element
            )
            assert drawn > 0, figure
        # The agent table sorts when a header is clicked.
        header = driver.find_element(By.CSS_SELECTOR, "#agents-table th[data-col='1']")
        header.click()
        values = [
            float(td.get_attribute("data-sort"))
            for td in driver.find_elements(
                By.CSS_SELECTOR, "#agents-table tbody tr td:nth-child(2)"
            )
        ]
        assert values == sorted(values)
        ARTIFACTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / screenshot))
        return traces
    finally:
        driver.quit()


@needs_browser
def test_report_in_headless_chromium(report: Path) -> None:
    # Catches a governance section whose figure never draws (a bad plotly spec).
    traces = _check_in_browser(report, "report-12-agents.png")
    assert all(count > 0 for count in traces.values())
    assert set(GOVERNANCE_FIGURES) <= set(traces)
    assert traces["fig-governance-0"] == 3  # Banzhaf, Shapley-Shubik, flip-pivotal
    assert (ARTIFACTS / "report-12-agents.png").stat().st_size > 10_000


@needs_browser
@pytest.mark.parametrize("n_agents", [2, 200])
def test_report_readable_for_tiny_and_large_swarms(tmp_path: Path, n_agents: int) -> None:
    analysis = _analysis(n_agents, n_items=150, bootstrap=10)
    if n_agents == 2:
        # Two agents still need an attribute to draw the attribute figure.
        analysis.agents["family"] = pd.Series(["a", "a"], index=analysis.agents.index)
    path = tmp_path / "report.html"
    path.write_text(render_html(analysis.to_document()), encoding="utf-8")
    assert path.stat().st_size < 10_000_000
    traces = _check_in_browser(path, f"report-{n_agents}-agents.png")
    assert all(count > 0 for count in traces.values())


@pytest.mark.parametrize("level", [0.9, 0.99])
def test_page_prints_the_interval_level_it_was_given(level: float) -> None:
    # Catches a page that hard-codes "95 %" whatever level the analysis used.
    swarm = latent_swarm(n_agents=6, n_items=200, seed=3)
    page = render_html(analyze(swarm, bootstrap=40, level=level).to_document())
    assert f"({level * 100:g} % interval " in page
    assert "95 % interval" not in page


@pytest.mark.parametrize(
    ("correct", "sentence"),
    [
        ([[1, 0], [0, 1]] * 10, "show no evidence of correlated errors"),
        ([[1, 1]] * 10, "independent agents is undefined: no agent made an error"),
    ],
    ids=["anti-correlated", "all-right"],
)
def test_page_says_why_effective_agents_are_n_or_undefined(
    correct: list[list[int]], sentence: str
) -> None:
    # Catches the page promising "as much information as 2.0 agents would" for agents whose
    # errors are not positively correlated, or staying silent when the figure is undefined.
    from monoculture import Responses

    page = render_html(analyze(Responses.from_arrays(correct=correct), bootstrap=20).to_document())
    assert sentence in page
