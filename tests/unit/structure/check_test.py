#!/usr/bin/python3
"""scripts/check against this tree and against copies of it with one defect
each: an include against the layer direction, an undeclared module, a USES
entry nothing includes, a cycle, a module folder the build does not add, an
atom outside a type-ID block, two atoms with one text, an unformatted file. Each defect must make the check fail and name the file."""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

SOURCE = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..",
                                      ".."))
CHECK = os.path.join(SOURCE, "scripts", "check")


def run_check(*args):
    return subprocess.run([sys.executable, CHECK, *args], capture_output=True,
                          text=True, timeout=120)


class CopyOfTheTree(unittest.TestCase):
    """Each test edits a private copy of the code folders."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="distiller-check-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        keep = shutil.ignore_patterns("node_modules", "static", "*.md",
                                      "*.sql", "*.cmake")
        for top in ("runtime", "bridges", "actors"):
            shutil.copytree(os.path.join(SOURCE, top),
                            os.path.join(self.tmp, top), ignore=keep)
        for name in ("CMakeLists.txt", ".clang-format"):
            shutil.copy(os.path.join(SOURCE, name), self.tmp)

    def append(self, rel, text):
        with open(os.path.join(self.tmp, rel), "a", encoding="utf-8") as f:
            f.write(text)

    def replace(self, rel, old, new):
        path = os.path.join(self.tmp, rel)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        self.assertIn(old, text)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text.replace(old, new))

    def layers(self):
        return run_check("--layers", "--root", self.tmp)

    def test_the_unchanged_copy_passes(self):
        run = self.layers()
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)

    def test_an_include_against_the_layer_direction_fails(self):
        self.append("runtime/core/ids.cpp", '#include "actors/node/node.hpp"\n')
        run = self.layers()
        self.assertEqual(run.returncode, 1)
        self.assertIn("runtime/core/ids.cpp:", run.stdout)
        self.assertIn("against the layer direction", run.stdout)

    def test_a_bridge_including_an_actor_fails(self):
        self.append("bridges/http/router.cpp",
                    '#include "actors/broadcast/hub.hpp"\n')
        run = self.layers()
        self.assertEqual(run.returncode, 1)
        self.assertIn("bridges/http/router.cpp:", run.stdout)
        self.assertIn("bridges may not include actors", run.stdout)

    def test_an_undeclared_module_of_the_same_layer_fails(self):
        self.append("bridges/kafka/sink.cpp",
                    '#include "bridges/http/server.hpp"\n')
        run = self.layers()
        self.assertEqual(run.returncode, 1)
        self.assertIn("kafka does not declare in USES", run.stdout)

    def test_a_declared_module_nothing_includes_fails(self):
        self.replace("bridges/embedded/CMakeLists.txt", "USES kafka",
                     "USES runtime_metrics kafka")
        run = self.layers()
        self.assertEqual(run.returncode, 1)
        self.assertIn("declares USES runtime_metrics but includes nothing",
                      run.stdout)

    def test_a_cycle_fails(self):
        self.replace("runtime/core/CMakeLists.txt", "distiller_module(runtime_core",
                     "distiller_module(runtime_core\n  USES runtime_logging")
        self.append("runtime/core/ids.cpp",
                    '#include "runtime/logging/log.hpp"\n')
        run = self.layers()
        self.assertEqual(run.returncode, 1)
        self.assertIn("module cycle: ", run.stdout)

    def test_production_code_including_tests_fails(self):
        self.append("actors/web/assets.cpp",
                    '#include "tests/support/testing.hpp"\n')
        run = self.layers()
        self.assertEqual(run.returncode, 1)
        self.assertIn("never includes tests/", run.stdout)

    def test_a_module_the_build_does_not_add_fails(self):
        os.makedirs(os.path.join(self.tmp, "bridges/extra"))
        self.append("bridges/extra/CMakeLists.txt",
                    "distiller_module(extra USES runtime_core)\n")
        self.append("bridges/extra/x.cpp", '#include "runtime/core/ids.hpp"\n')
        run = self.layers()
        self.assertEqual(run.returncode, 1)
        self.assertIn("does not add the module folder bridges/extra",
                      run.stdout)

    def test_an_atom_declared_outside_a_type_id_block_fails(self):
        self.append("actors/broadcast/hub.cpp",
                    'using stray_atom = caf::atom_constant<caf::atom("stray")>;\n'
                    '// using commented_atom = caf::atom_constant<caf::atom("c")>;\n')
        run = self.layers()
        self.assertEqual(run.returncode, 1)
        lines = [l for l in run.stdout.splitlines() if "outside a type-ID" in l]
        self.assertEqual(len(lines), 1, run.stdout)  # not the comment
        self.assertIn("actors/broadcast/hub.cpp:", lines[0])

    def test_two_atoms_with_one_text_fail(self):
        self.replace("actors/cluster/type_ids.hpp", '"clbeat"', '"bcgap"')
        run = self.layers()
        self.assertEqual(run.returncode, 1)
        self.assertIn("atom distiller::cluster::detail::beat_atom has the text "
                      "'bcgap' of distiller::broadcast::detail::gap_atom",
                      run.stdout)

    def test_an_unformatted_file_fails_the_format_check(self):
        self.append("runtime/core/ids.cpp", "int  badly_formatted ( ){return 1;}\n")
        run = run_check("--format", "--root", self.tmp)
        self.assertEqual(run.returncode, 1, run.stdout + run.stderr)
        self.assertIn("runtime/core/ids.cpp: not formatted", run.stdout)


class ThisTree(unittest.TestCase):
    def test_layers_and_format_pass(self):
        run = run_check("--layers", "--format")
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
