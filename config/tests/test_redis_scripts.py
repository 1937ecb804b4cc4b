"""Every Lua script touches only keys it declares in KEYS.

Redis does not enforce it (a script may build key names from ARGV or from what it read), but a
Redis Cluster routes a script by its declared keys, and a key built inside it may live in another
slot or on another node. The cluster tests (test_redis_cluster.py) prove that each script's
declared keys share one slot; this test proves there are no others: the key argument of every
`redis.call` in the project's scripts is a KEYS entry.
"""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ["config", "tutor", "quizzes", "dialogs"]
CALL = re.compile(r"redis\.p?call\(\s*'(\w+)'\s*(?:,\s*([^,)]+))?")
KEYLESS = {"TIME", "PUBLISH"}  # commands whose first argument is not a key


def lua_scripts() -> dict[str, str]:
    """Every string constant in the apps' modules that calls Redis from Lua, by location."""
    found = {}
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "tests" in path.parts or "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                text = node.value if isinstance(node, ast.Constant) else None
                if isinstance(text, str) and ("redis.call(" in text or "redis.pcall(" in text):
                    found[f"{path.relative_to(ROOT)}:{node.lineno}"] = text
    return found


def test_lua_scripts_are_found():
    scripts = lua_scripts()

    assert any(where.startswith("tutor/flush/snapshot.py") for where in scripts)
    assert any(where.startswith("quizzes/leaderboard.py") for where in scripts)


def test_every_lua_redis_call_uses_a_declared_key():
    undeclared = []
    for where, script in lua_scripts().items():
        for command, key in CALL.findall(script):
            if command.upper() in KEYLESS:
                continue
            if not re.fullmatch(r"KEYS\[[^\]]+\]", key.strip()):
                undeclared.append(f"{where}: {command} {key.strip()}")

    assert not undeclared, "keys not passed in KEYS:\n" + "\n".join(undeclared)
