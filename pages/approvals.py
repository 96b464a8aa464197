import streamlit as st

st.title("approvals")
st.info("This page is being built.")
