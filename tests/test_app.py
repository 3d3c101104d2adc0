"""The Streamlit app starts and shows its entry page (AppTest runs the script without a browser)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from o1coder.paths import PROJECT_ROOT


def test_app_entry_page_renders():
    at = AppTest.from_file(str(PROJECT_ROOT / "app" / "main.py"), default_timeout=30).run()
    assert not at.exception
    assert at.title[0].value == "o1coder"
    assert "o1coder verify" in at.info[0].value
