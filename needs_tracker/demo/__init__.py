"""Demo data: the Weifang service centre and its Q1 2021 visit."""
