"""o1coder app entry point (placeholder until the app issue lands: it shows what exists and how to start)."""

import streamlit as st


def run() -> None:
    st.set_page_config(page_title="o1coder", layout="wide")
    st.title("o1coder")
    st.write(
        "A research environment for reasoning-based code generation (O1-CODER): typed pseudocode steps, "
        "MCTS over them rewarded by running tests, and the models trained from that data."
    )
    st.info(
        "The live views of search trees and metrics arrive with the app stage. Today you can verify the "
        "benchmark loaders and the sandbox from a terminal: `o1coder verify mbpp --path FILE`."
    )


run()
