"""The paper's experiments as commands: figure configs, a resumable runner, figures and reports."""
