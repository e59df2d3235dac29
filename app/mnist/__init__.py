"""The digit lab's maths: MNIST data, the network, training and drawn-digit input."""
