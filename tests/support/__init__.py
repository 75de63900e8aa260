"""Test support: throwaway engines and data loading."""
