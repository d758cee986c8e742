"""``manage.py im_fake`` serves a fake platform by hand and prints what it receives."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_the_fake_prints_its_settings_and_each_message(tmp_path):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "im_fake", "--platform", "wecom", "--port", "0"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        lines = []
        while not any("Group robot webhook" in line for line in lines):
            line = process.stdout.readline()
            assert line, "".join(lines)
            lines.append(line)
        webhook = re.search(r"(http://127\.0\.0\.1:\d+/cgi-bin/webhook/send\?key=fake-robot)",
                            "".join(lines)).group(1)
        assert any("Corp" in line or "App ID" in line for line in lines)
        request = urllib.request.Request(
            webhook, method="POST", headers={"Content-Type": "application/json"},
            data=json.dumps({"msgtype": "text", "text": {"content": "你好，团队"}}).encode())
        with urllib.request.urlopen(request, timeout=5) as answer:
            assert json.loads(answer.read()) == {"errcode": 0, "errmsg": "ok"}
        printed = [process.stdout.readline() for _line in range(2)]
        assert any("robot fake-robot: 你好，团队" in line for line in printed), printed
    finally:
        process.terminate()
        process.wait(timeout=10)
