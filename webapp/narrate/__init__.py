"""The narrative report pages: a unit writes its answers, the compiler reads them and drafts."""
