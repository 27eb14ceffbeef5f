"""The web page in a real browser (headless Chromium driven by Selenium) against a live
server on 127.0.0.1: streamed text, next words, classification bars and the forecast chart
appear, and a screenshot is taken."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import SHARED_DATA

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is in the dev extra")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM and DRIVER):
        pytest.skip(
            "Chromium is not installed here: apt-get install chromium chromium-driver "
            "(.ci/run installs them)"
        )
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1100,1800",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


def _wait(browser, condition, seconds: float = 60):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, seconds).until(lambda driver: condition(driver))


def test_the_page_streams_classifies_and_draws_a_forecast(live_server, browser, tmp_path):
    from selenium.webdriver.common.by import By

    find = browser.find_element
    browser.get(live_server + "/")
    _wait(browser, lambda b: b.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
    assert "classify (classify, onnxruntime)" in find(By.ID, "models").text

    # Generation streams into the page, token by token, until the "done" event.
    prompt = find(By.ID, "generate-prompt")
    prompt.clear()
    prompt.send_keys("ROMEO:")
    find(By.ID, "generate-length").clear()
    find(By.ID, "generate-length").send_keys("300")
    find(By.ID, "generate-seed").send_keys("1")
    find(By.ID, "generate-button").click()
    _wait(browser, lambda b: b.find_element(By.ID, "generated").get_attribute("data-done"))
    generated = find(By.ID, "generated").text
    assert generated.startswith("ROMEO:") and len(generated) > 100

    # Next words of the word model, as bars.
    Select = pytest.importorskip("selenium.webdriver.support.select").Select
    Select(find(By.ID, "next-model")).select_by_value("word_lm")
    find(By.ID, "next-button").click()
    _wait(browser, lambda b: len(b.find_elements(By.CSS_SELECTOR, "#next-words .bar")) == 5)

    # Two sentences classified: a label and a bar per class each.
    find(By.ID, "classify-button").click()
    _wait(browser, lambda b: len(b.find_elements(By.CSS_SELECTOR, "#classified .result")) == 2)
    assert len(browser.find_elements(By.CSS_SELECTOR, "#classified .bar")) == 4

    # A CSV upload: the forecast is drawn after the history.
    table = tmp_path / "recent.csv"
    lines = (SHARED_DATA / "ett" / "ETTh1.csv").read_text().splitlines()
    table.write_text("\n".join(lines[:1] + lines[-200:]) + "\n")
    find(By.ID, "forecast-file").send_keys(str(table))
    find(By.ID, "forecast-button").click()
    _wait(browser, lambda b: b.find_element(By.ID, "forecast-chart").get_attribute("data-drawn"))
    assert "history (blue), forecast (red)" in find(By.ID, "forecast-legend").text
    assert find(By.ID, "status").text == ""

    screenshot = tmp_path / "page.png"
    assert browser.save_screenshot(str(screenshot))
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    print(f"screenshot: {screenshot}")
