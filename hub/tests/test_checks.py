"""Deploy checks of the production settings."""

import subprocess
import sys


from hub.testing import BASE_DIR, subprocess_env
from hub.tests.test_production_checks import SAFE


def test_check_deploy_is_clean_with_production_settings():
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=BASE_DIR,
                            env=subprocess_env(**SAFE), capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
