"""Headless Chromium for the page tests (Debian's chromium and chromium-driver, installed by `make test`)."""

from __future__ import annotations

import shutil


def chromium(width: int | None = None, height: int | None = None):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(arg)
    if width and height:
        options.add_argument(f"--window-size={width},{height}")
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
