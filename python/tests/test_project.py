"""Unit tests of project zips: what is left out, .titanignore, and the same bytes every time."""

import io
import os
import shutil
import tempfile
import time
import unittest
import zipfile

from titan_sdk import BadRequestError, TitanFileNotFoundError
from titan_sdk._project import IgnoreMatcher, build_project_zip, zip_base_name
from titan_sdk._pipeline import pipeline_specs as _pipeline_specs


class FolderTestCase(unittest.TestCase):
    def setUp(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="titan-sdk-project-")
        for rel in ("main.py", "src/util.py", "src/__pycache__/util.cpython-311.pyc", ".git/HEAD", ".env", "node_modules/x/index.js",
                    "data/big.csv", "logs/run.log", "notes.log", "keep.log", "sub/.env", "docs/a.md"):
            self.write(rel, rel)

    def tearDown(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def write(self, rel: str, text: str) -> None:
        path = os.path.join(self.dir, *rel.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)


class TestProjectZip(FolderTestCase):
    def test_secrets_version_control_and_caches_are_always_left_out(self) -> None:
        files = build_project_zip(self.dir).files
        self.assertEqual(files, sorted(["data/big.csv", "docs/a.md", "keep.log", "logs/run.log", "main.py", "notes.log", "src/util.py"]))

    def test_titanignore_lines(self) -> None:
        self.write(".titanignore", "# comment\n\ndata/\n*.log\n!keep.log\n/docs/a.md\n")
        files = build_project_zip(self.dir).files
        self.assertEqual(files, [".titanignore", "keep.log", "main.py", "src/util.py"])

    def test_the_same_folder_gives_the_same_bytes(self) -> None:
        first = build_project_zip(self.dir)
        time.sleep(0.01)
        os.utime(os.path.join(self.dir, "main.py"), None)
        second = build_project_zip(self.dir)
        self.assertEqual(first.sha256, second.sha256)
        with zipfile.ZipFile(io.BytesIO(first.content)) as zf:
            self.assertEqual(zf.read("src/util.py"), b"src/util.py")
            self.assertTrue(all(i.date_time == (1980, 1, 1, 12, 0, 0) for i in zf.infolist()))

    def test_a_missing_folder(self) -> None:
        with self.assertRaisesRegex(TitanFileNotFoundError, "Folder not found"):
            build_project_zip(os.path.join(self.dir, "nope"))

    def test_glob_rules(self) -> None:
        m = IgnoreMatcher.parse("**/tmp\nbuild/\na?c\n[xy].txt\n")
        self.assertTrue(m.ignores("tmp", True))
        self.assertTrue(m.ignores("deep/er/tmp/file", False))
        self.assertTrue(m.ignores("build/out.js", False))
        self.assertFalse(m.ignores("build", False))
        self.assertTrue(m.ignores("abc", False))
        self.assertTrue(m.ignores("x.txt", False))
        self.assertFalse(m.ignores("z.txt", False))

    def test_zip_names(self) -> None:
        self.assertEqual(zip_base_name("my pipeline/v2"), "my_pipeline_v2")
        self.assertEqual(zip_base_name("..."), "project")


class TestPipelineSpecs(FolderTestCase):
    """What submit_yaml sends for the master's reading of a pipeline (pipeline.parse)."""

    def pipeline(self, project: bool, file: str = "src/util.py") -> dict:
        return {"name": "demo flow", "tags": [], "project": project, "jobs": [
            {"id": "a", "file": file, "fileAt": "p.yaml:3:11", "args": ["x"], "dependsOn": [], "requirement": "GENERAL", "priority": 1, "delayMs": 0, "affinity": "none", "env": {}},
            {"id": "hitl-gate-a", "kind": "approval", "message": "ok?", "timeoutMs": 1000, "dependsOn": ["a"]},
        ]}

    def test_inline_scripts_are_read_relative_to_the_yaml_folder(self) -> None:
        specs, blobs = _pipeline_specs(self.pipeline(False), self.dir)
        self.assertEqual(specs[0]["script"]["name"], "util.py")
        self.assertEqual(blobs[specs[0]["script"]["sha256"]], b"src/util.py")
        self.assertNotIn("file", specs[0])
        self.assertNotIn("fileAt", specs[0])
        self.assertEqual(specs[1], {"id": "hitl-gate-a", "kind": "approval", "message": "ok?", "timeoutMs": 1000, "dependsOn": ["a"]})

    def test_project_mode_runs_entries_of_one_zip(self) -> None:
        specs, blobs = _pipeline_specs(self.pipeline(True), self.dir)
        archive = specs[0]["archive"]
        self.assertEqual((archive["name"], archive["entry"]), ("demo_flow.zip", "src/util.py"))
        self.assertEqual(list(blobs), [archive["sha256"]])

    def test_a_missing_or_excluded_file_names_the_yaml_position(self) -> None:
        with self.assertRaisesRegex(TitanFileNotFoundError, "p.yaml:3:11: job 'a': cannot read"):
            _pipeline_specs(self.pipeline(False, "nope.py"), self.dir)
        with self.assertRaisesRegex(BadRequestError, "p.yaml:3:11: .*\\.env is left out of the project zip"):
            _pipeline_specs(self.pipeline(True, ".env"), self.dir)
        with self.assertRaisesRegex(BadRequestError, "inside the project folder"):
            _pipeline_specs(self.pipeline(True, "../x.py"), self.dir)


if __name__ == "__main__":
    unittest.main()
