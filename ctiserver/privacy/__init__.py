"""A person's right to erasure (GDPR art. 17): ``erase`` clears the database, ``memory`` what a running daemon
holds, ``follow`` lets a daemon hear of an erasure made elsewhere (``ctiserver privacy erase``, another daemon)."""
