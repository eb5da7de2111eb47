"""SplitScope training pipeline: BottleFit-style split models on Fashion-MNIST."""
