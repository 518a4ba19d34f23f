# SPDX-License-Identifier: MPL-2.0
"""security: key and secret files as the C++ tools write them, the allowlist and its
re-reading, ids bound to keys, seeds naming keys. Files only, no sockets."""

import os
import tempfile
import unittest

from zmesh import security as sec
from zmesh.discovery import seed_key
from zmesh.errors import SetupError


class Files(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def test_keypair_files_read_back(self):
        public = sec.write_keypair(os.path.join(self.dir, "a"))
        secret, pub = sec.read_secret_key(os.path.join(self.dir, "a.key"))
        self.assertEqual(pub.decode(), public)
        self.assertEqual(sec.read_public_key(os.path.join(self.dir, "a.pub")), public)
        self.assertEqual(oct(os.stat(os.path.join(self.dir, "a.key")).st_mode & 0o777), "0o600")
        with self.assertRaises(OSError):   # never overwritten
            sec.write_keypair(os.path.join(self.dir, "a"))

    def test_secrets_readable_by_others_are_refused(self):
        sec.write_keypair(os.path.join(self.dir, "a"))
        sec.write_mesh_secret(os.path.join(self.dir, "m"))
        for name in ("a.key", "m"):
            os.chmod(os.path.join(self.dir, name), 0o644)
        with self.assertRaisesRegex(ValueError, "readable by others"):
            sec.read_secret_key(os.path.join(self.dir, "a.key"))
        with self.assertRaisesRegex(ValueError, "readable by others"):
            sec.read_mesh_secret(os.path.join(self.dir, "m"))

    def test_mesh_secret_is_its_first_line_without_blanks(self):
        path = os.path.join(self.dir, "m")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, b"  0123456789abcdef-x \t\nsecond line\n")
        os.close(fd)
        self.assertEqual(sec.read_mesh_secret(path), b"0123456789abcdef-x")
        short = os.path.join(self.dir, "s")
        fd = os.open(short, os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, b"too short\n")
        os.close(fd)
        with self.assertRaisesRegex(ValueError, "shorter than 16"):
            sec.read_mesh_secret(short)

    def test_a_key_file_without_a_key_is_refused(self):
        path = os.path.join(self.dir, "x.key")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, b"not a key\n")
        os.close(fd)
        with self.assertRaisesRegex(ValueError, "no Z85 key"):
            sec.read_secret_key(path)


class Allowlists(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def test_directory_is_reread_and_removed_keys_reported(self):
        a = sec.write_keypair(os.path.join(self.dir, "a"))
        allow = sec.Allowlist([], self.dir)
        self.assertTrue(allow.allows(a))
        nid = sec.new_id_for_key(a.encode())
        self.assertEqual(allow.key_for(nid), a)
        b = sec.write_keypair(os.path.join(self.dir, "b"))
        self.assertTrue(allow.allows(b))     # a miss reads the directory again
        self.assertEqual(allow.take_revoked(), set())
        os.remove(os.path.join(self.dir, "a.pub"))
        self.assertTrue(allow.reload())
        self.assertFalse(allow.reload())     # unchanged since
        self.assertFalse(allow.allows(a))
        self.assertIsNone(allow.key_for(nid))
        self.assertEqual(allow.take_revoked(), {a})
        self.assertEqual(allow.take_revoked(), set())

    def test_given_keys_stay_and_bad_ones_are_refused(self):
        other = tempfile.TemporaryDirectory()
        k = sec.write_keypair(os.path.join(other.name, "k"))
        allow = sec.Allowlist([k], self.dir)
        self.assertTrue(allow.allows(k))
        other.cleanup()
        with self.assertRaises(ValueError):
            sec.Allowlist(["short"], None)
        with self.assertRaises(ValueError):
            sec.Allowlist([], os.path.join(self.dir, "missing"))

    def test_ids_carry_their_keys_first_8_bytes(self):
        k = sec.write_keypair(os.path.join(self.dir, "k"))
        a, b = sec.new_id_for_key(k.encode()), sec.new_id_for_key(k.encode())
        self.assertNotEqual(a, b)            # replicas of one key are distinct members
        self.assertEqual(a[:8], sec.decode_key(k)[:8])
        self.assertTrue(sec.key_matches_id(k, a))
        self.assertFalse(sec.key_matches_id(k, bytes(16)))
        self.assertFalse(sec.key_matches_id(None, a))

    def test_seeds_name_keys_by_z85_or_by_name(self):
        k = sec.write_keypair(os.path.join(self.dir, "seed"))
        self.assertEqual(seed_key("tcp://h:1", None), (None, "tcp://h:1"))
        self.assertEqual(seed_key(f"{k}@tcp://h:1", None), (k, "tcp://h:1"))
        self.assertEqual(seed_key("seed@tcp://h:1", self.dir), (k, "tcp://h:1"))
        with self.assertRaises(SetupError):
            seed_key("nobody@tcp://h:1", self.dir)


if __name__ == "__main__":
    unittest.main()
