"""Drives Debian's headless Chromium (through chromedriver and Selenium) on a `/watch/...` page.

    python watch.py URL

Checks nothing itself: it prints `key=value` lines the Rust test (tests/serve_browser.rs)
asserts on. Steps: open the page; wait until the video plays (currentTime past 1.5 s, no
media error); turn the first subtitle track on and count its cues; seek to 70 % of the
duration and time how long until playback runs again past the target; check it keeps
advancing. The browser gets a fresh profile and no network beyond the page's own server
(this network is closed). CHROMIUM and CHROMEDRIVER override the Debian paths.
"""

import json
import os
import shutil
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--autoplay-policy=no-user-gesture-required",
    "--mute-audio",
]


def state(driver):
    return driver.execute_script(
        """const v = document.querySelector('video');
        const p = window.tgmux || {};
        return {t: v.currentTime, paused: v.paused, ready: v.readyState, duration: v.duration,
                error: v.error ? v.error.code : null, errors: p.errors || [],
                mode: p.mode || null, fetched: p.fetched || []};"""
    )


def wait(driver, pred, seconds):
    """Polls every 50 ms; returns (state, seconds taken) or (state, None) on timeout."""
    start = time.monotonic()
    while True:
        s = state(driver)
        if s["error"] is not None or s["errors"]:
            return s, None
        if pred(s):
            return s, time.monotonic() - start
        if time.monotonic() - start > seconds:
            return s, None
        time.sleep(0.05)


def main(url):
    out = {}
    profile = tempfile.mkdtemp(prefix="tgmux-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for f in FLAGS + ["--user-data-dir=" + profile]:
        opts.add_argument(f)
    service = Service(executable_path=os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
    driver = webdriver.Chrome(service=service, options=opts)
    try:
        driver.set_script_timeout(30)
        driver.get(url)
        s, took = wait(driver, lambda s: s["t"] > 1.5 and not s["paused"], 60)
        out["played"] = took is not None
        out["first_play_s"] = round(took, 3) if took is not None else -1
        out["mode"] = s["mode"]
        out["duration"] = s["duration"]

        # Subtitles: select the first track, wait for its cues to load.
        driver.execute_script(
            "const s = document.getElementById('subs'); if (s.options.length > 1) {"
            " s.value = '0'; s.onchange(); }"
        )
        cues = 0
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            cues = driver.execute_script(
                "const t = document.querySelector('video').textTracks[0];"
                "return t && t.cues ? t.cues.length : 0;"
            )
            if cues:
                break
            time.sleep(0.05)
        out["cues"] = cues
        out["cue_texts"] = json.dumps(
            driver.execute_script(
                "const t = document.querySelector('video').textTracks[0];"
                "return t && t.cues ? Array.from(t.cues).map(c => c.text) : [];"
            )
        )

        # Seek to 70 % and time the restart.
        target = 0.7 * s["duration"]
        out["seek_target"] = round(target, 3)
        driver.execute_script("document.querySelector('video').currentTime = arguments[0];", target)
        s, took = wait(
            driver, lambda s: s["t"] >= target + 0.3 and not s["paused"] and s["ready"] >= 3, 10
        )
        out["seek_s"] = round(took, 3) if took is not None else -1
        t1 = s["t"]
        time.sleep(0.6)
        s = state(driver)
        out["advanced_after_seek"] = s["t"] > t1 + 0.2
        out["final_t"] = round(s["t"], 3)
        out["media_error"] = s["error"]
        out["errors"] = json.dumps(s["errors"])
        out["fetched"] = ",".join(s["fetched"])
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
    for k, v in out.items():
        print(f"{k}={v}")


if __name__ == "__main__":
    main(sys.argv[1])
